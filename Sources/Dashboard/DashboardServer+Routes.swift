import Foundation
import Hummingbird
import ServiceLifecycle
import Sweeps

/// The routes. Pages: `/`, `/sweeps/NAME`, `/sweeps/NAME/fragment`, `/sweeps/NAME/aggregate/FILE`.
/// API: `/api/sweeps`, `/api/sweeps/NAME/status`, `/api/sweeps/NAME/trials`, `/api/sweeps/NAME/epochs?trial=ID`,
/// `/api/sweeps/NAME/events` (server-sent events).
extension DashboardServer {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: DashboardAuthMiddleware(access: access))
        let reader = self.reader
        router.get("/") { _, _ in
            try await respond { html(DashboardPages.index(try await offload { reader.summaries() }, root: reader.root.path)) }
        }
        router.get("/sweeps/:name") { _, context in
            try await respond {
                let name = try sweepName(context)
                let (snapshot, figures) = try await offload { (try reader.snapshot(name), try reader.aggregateFiles(name)) }
                let (status, rows) = snapshot
                return html(DashboardPages.sweep(status, rows: rows, figures: figures))
            }
        }
        router.get("/sweeps/:name/fragment") { _, context in
            try await respond {
                let name = try sweepName(context)
                let (status, rows) = try await offload { try reader.snapshot(name) }
                return html(DashboardPages.fragment(status, rows: rows))
            }
        }
        router.get("/sweeps/:name/aggregate/**") { request, context in
            try await respond { try await aggregateFile(request, context) }
        }
        addAPI(router)
        return router
    }

    private func addAPI(_ router: Router<BasicRequestContext>) {
        let reader = self.reader
        router.get("/api/sweeps") { _, _ in
            try await respond { json(try DashboardJSON.encode(["sweeps": try await offload { reader.summaries() }])) }
        }
        router.get("/api/sweeps/:name/status") { _, context in
            try await respond { let name = try sweepName(context); return json(try await offload { try reader.status(name).jsonText() }) }
        }
        router.get("/api/sweeps/:name/trials") { _, context in
            try await respond {
                let name = try sweepName(context)
                let rows = try await offload { try reader.trials(name) }
                return json(try DashboardJSON.encode(TrialsReply(name: name, trials: rows)))
            }
        }
        router.get("/api/sweeps/:name/epochs") { request, context in
            try await respond {
                let name = try sweepName(context)
                guard let trial = request.uri.queryParameters.get("trial"), !trial.isEmpty else {
                    throw DashboardError(.badRequest, "epochs: add ?trial=ID (a trial id from /api/sweeps/\(name)/trials)")
                }
                let epochs = try await offload { try reader.epochs(name, trial: trial) }
                return json(try DashboardJSON.encode(EpochsReply(trial: trial, epochs: epochs)))
            }
        }
        let interval = pollInterval
        router.get("/api/sweeps/:name/events") { _, context in
            try await respond {
                let name = try sweepName(context)
                let store = try await offload { try reader.store(name) }
                return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                                body: ResponseBody { writer in try await stream(store, interval: interval, to: &writer) })
            }
        }
    }

    private func aggregateFile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let name = try sweepName(context)
        let marker = "/aggregate/"
        guard let range = request.uri.path.range(of: marker) else { throw DashboardError(.notFound, "no such file") }
        let encoded = String(request.uri.path[range.upperBound...])
        let relative = encoded.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.removingPercentEncoding ?? String($0) }.joined(separator: "/")
        let reader = self.reader
        let (data, type) = try await offload {
            let base = try reader.directory(of: name).appendingPathComponent("aggregate")
            let url = try DashboardFiles.resolve(relative, under: base)
            return (try Data(contentsOf: url), DashboardFiles.contentType(for: url.lastPathComponent))
        }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The live stream: polls the store every `interval` (each poll a short read, nothing held across awaits) and
/// writes `status` and `epochs` events when something changed, a comment line every ~15 s otherwise.
private func stream(_ store: SweepStore, interval: Duration, to writer: inout any ResponseBodyWriter) async throws {
    var live = DashboardLive()
    var quiet = 0
    let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
    let pingEvery = max(1, Int(15 / max(seconds, 0.001)))
    do {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (status, statusJSON) = try await offload { () -> (SweepStatus, String) in
                let status = try store.status()
                return (status, try DashboardJSON.encode(status))
            }
            let plan = live.update(status, statusJSON: statusJSON)
            var out = plan.statusChanged ? DashboardLive.event("status", statusJSON) : ""
            for id in plan.trials {
                let epochs = try await offload { try store.epochs(trialID: id).map { EpochRow(epoch: $0.epoch, metrics: $0.metrics.filter { $0.value.isFinite }) } }
                out += DashboardLive.event("epochs", try DashboardJSON.encode(EpochsReply(trial: id, epochs: epochs)))
            }
            quiet = out.isEmpty ? quiet + 1 : 0
            if quiet >= pingEvery { out = ": still here\n\n"; quiet = 0 }
            if !out.isEmpty { try await writer.write(ByteBuffer(string: out)) }
            try await Task.sleep(for: interval)
        }
    } catch is CancellationError {}
    try await writer.finish(nil)
}

struct TrialsReply: Encodable { var name: String; var trials: [TrialRow] }
struct EpochsReply: Encodable { var trial: String; var epochs: [EpochRow] }

private func sweepName(_ context: BasicRequestContext) throws -> String {
    guard let raw = context.parameters.get("name") else { throw DashboardError(.notFound, "no sweep named") }
    return raw.removingPercentEncoding ?? raw
}

private func html(_ text: String) -> Response {
    Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
             body: .init(byteBuffer: ByteBuffer(string: text)))
}

private func json(_ text: String) -> Response {
    Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
             body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
}

/// Runs a handler, turning its errors into a plain-text answer with the right status.
private func respond(_ body: () async throws -> Response) async throws -> Response {
    do { return try await body() } catch let e as DashboardError {
        return Response(status: .init(code: e.httpStatus), headers: [.contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: e.message + "\n")))
    } catch let e as SweepError {
        let status: HTTPResponse.Status = e.code == .notFound ? .notFound : .serviceUnavailable
        return Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: e.message + "\n")))
    }
}

/// Refuses requests without the token (when one is required) with 401; sets the cookie after a visit with
/// `?token=` so the page's links, fetches and event stream carry it.
struct DashboardAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: DashboardAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let query = request.uri.queryParameters.get("token")
        guard access.allows(queryToken: query, cookieHeader: request.headers[.cookie], authorization: request.headers[.authorization]) else {
            return Response(status: .unauthorized, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "401: this dashboard needs its token; open the address "
                                                               + "`fsweep serve` printed (http://HOST:PORT/?token=…)\n")))
        }
        var response = try await next(request, context)
        if let token = access.token, query != nil {
            response.headers[.setCookie] = "\(DashboardAccess.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
        }
        return response
    }
}
