// Process spawning for external runners, in C because the glibc pieces it needs (pipe2,
// posix_spawn_file_actions_addclosefrom_np) sit behind _GNU_SOURCE, which Swift's Glibc module does not set.
#ifndef FS_PROCESS_H
#define FS_PROCESS_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A pipe with both ends close-on-exec, so a child started by another thread meanwhile cannot inherit
/// it (an inherited write end keeps the reader from ever seeing EOF). Returns 0 or an errno value.
int fs_pipe_cloexec(int fds[2]);

/// Spawns `argv` (argv[0] is the path) with `envp` as the leader of a new process group, stdin/stdout/
/// stderr taken from `in`/`out`/`err`, every other descriptor closed, default handling for SIGINT,
/// SIGTERM, SIGQUIT, SIGHUP and SIGPIPE and an empty signal mask (the parent may ignore or block them).
/// Returns 0 and sets `*pid`, or an errno value.
int fs_spawn_group(char *const argv[], char *const envp[], int in, int out, int err, pid_t *pid);

#ifdef __cplusplus
}
#endif

#endif
