import Dashboard
import Foundation
import Testing

@Suite struct DashboardAccessTests {
    @Test func loopbackNeedsNoTokenAndOtherAddressesGetOne() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] {
            #expect(DashboardAccess.forHost(host).token == nil, "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.0.2.7", "example.org"] {
            let token = DashboardAccess.forHost(host).token
            #expect(token?.count == 64, "\(host) must require a generated token")
        }
        #expect(DashboardAccess.forHost("0.0.0.0").token != DashboardAccess.forHost("0.0.0.0").token)
        #expect(DashboardAccess.forHost("127.0.0.1", token: "t").token == "t")
    }

    @Test func requestsWithoutTheTokenAreRefused() {
        let access = DashboardAccess(token: "abc")
        #expect(!access.allows(queryToken: nil, cookieHeader: nil, authorization: nil))
        #expect(!access.allows(queryToken: "abd", cookieHeader: "fsweep_token=ab", authorization: "Bearer abcd"))
        #expect(!access.allows(queryToken: nil, cookieHeader: "other=abc", authorization: "Basic abc"))
        #expect(access.allows(queryToken: "abc", cookieHeader: nil, authorization: nil))
        #expect(access.allows(queryToken: nil, cookieHeader: "a=1; fsweep_token=abc", authorization: nil))
        #expect(access.allows(queryToken: nil, cookieHeader: nil, authorization: "Bearer abc"))
        #expect(DashboardAccess(token: nil).allows(queryToken: nil, cookieHeader: nil, authorization: nil))
    }

    @Test func bindAddressesAndPrintedURL() throws {
        #expect(try DashboardServer.parseBind("127.0.0.1:8080") == ("127.0.0.1", 8080))
        #expect(try DashboardServer.parseBind("[::1]:9000") == ("::1", 9000))
        #expect(try DashboardServer.parseBind("8081") == ("127.0.0.1", 8081))
        for bad in ["", "host", ":80", "h:99999", "h:x"] { #expect(throws: DashboardError.self) { try DashboardServer.parseBind(bad) } }
        let open = try DashboardServer(root: .init(fileURLWithPath: "/tmp"), bind: "192.0.2.7:8080")
        #expect(open.url(port: 8080) == "http://192.0.2.7:8080/?token=\(open.access.token ?? "missing")")
        let wildcard = try DashboardServer(root: .init(fileURLWithPath: "/tmp"), bind: "0.0.0.0:8080")
        #expect(wildcard.url(port: 1) == "http://\(ProcessInfo.processInfo.hostName):1/?token=\(wildcard.access.token ?? "missing")")
        #expect(try DashboardServer(root: .init(fileURLWithPath: "/tmp"), bind: "127.0.0.1:0").url(port: 4242) == "http://127.0.0.1:4242/")
    }
}
