#define _GNU_SOURCE
#include "cspawn.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

struct sandbox_start {
    const char *path;
    char *const *argv;
    char *const *envp;
    int user;
    uid_t uid;
    gid_t gid;
    int report_fd;  /* the child's errno, if it fails before exec (close-on-exec) */
    int status_fd;  /* becomes fd 3 of the program */
};

/* Only async-signal-safe calls from here on: the parent has threads. */
static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t n = write(fd, text, strlen(text));
    int rc = n < 0 ? errno : 0;
    close(fd);
    return rc;
}

static void format_map(char *out, unsigned long outside) {
    /* "0 OUTSIDE 1\n" without snprintf */
    char digits[24];
    int n = 0;
    do { digits[n++] = (char)('0' + outside % 10); outside /= 10; } while (outside);
    char *p = out;
    *p++ = '0'; *p++ = ' ';
    while (n) *p++ = digits[--n];
    *p++ = ' '; *p++ = '1'; *p++ = '\n'; *p = 0;
}

static int sandbox_child(void *arg) {
    struct sandbox_start *start = arg;
    int rc = 0;
    if (start->user) {
        char map[48];
        format_map(map, start->uid);
        if ((rc = write_file("/proc/self/uid_map", map)) != 0) goto failed;
        if ((rc = write_file("/proc/self/setgroups", "deny")) != 0) goto failed;
        format_map(map, start->gid);
        if ((rc = write_file("/proc/self/gid_map", map)) != 0) goto failed;
    }
    /* Mounts made inside (namespace files, a fresh /proc) never reach the machine. */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) { rc = errno; goto failed; }
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) { rc = errno; goto failed; }
    if (start->status_fd == 3) {
        fcntl(3, F_SETFD, 0);
    } else if (dup2(start->status_fd, 3) < 0) {
        rc = errno; goto failed;
    }
    /* Nothing else of the launcher's (the report pipe is close-on-exec). */
    for (int fd = 4; fd < 1024; fd++) if (fd != start->report_fd) close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(start->path, start->argv, start->envp);
    rc = errno;
failed:
    (void)!write(start->report_fd, &rc, sizeof rc);
    _exit(127);
}

int netplug_spawn_sandbox(const char *path, char *const argv[], char *const envp[], int user, int status_fd, pid_t *pid) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return errno;
    /* Above every fd the child keeps, so that closing them leaves it alone. */
    int high = fcntl(report[1], F_DUPFD_CLOEXEC, 1024);
    if (high >= 0) { close(report[1]); report[1] = high; }
    struct sandbox_start start = {path, argv, envp, user, geteuid(), getegid(), report[1], status_fd};
    size_t stack_size = 256 * 1024;
    char *stack = malloc(stack_size);
    if (!stack) { close(report[0]); close(report[1]); return ENOMEM; }
    int flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | SIGCHLD | (user ? CLONE_NEWUSER : 0);
    pid_t child = clone(sandbox_child, stack + stack_size, flags, &start);
    int rc = child < 0 ? errno : 0;
    close(report[1]);
    if (rc == 0) {
        /* End of file: the child reached exec. Otherwise its errno. */
        int child_rc = 0;
        ssize_t n;
        while ((n = read(report[0], &child_rc, sizeof child_rc)) < 0 && errno == EINTR) {}
        if (n == sizeof child_rc) {
            int status;
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            rc = child_rc ? child_rc : EPERM;
        } else {
            *pid = child;
        }
    }
    close(report[0]);
    free(stack);
    return rc;
}

int netplug_make_proc_sys_net_writable(void) {
    struct statvfs fs;
    if (statvfs("/proc/sys/net", &fs) != 0) return errno;
    if (!(fs.f_flag & ST_RDONLY)) return 0;
    if (mount("/proc/sys/net", "/proc/sys/net", NULL, MS_BIND | MS_REC, NULL) != 0) return errno;
    if (mount(NULL, "/proc/sys/net", NULL, MS_REMOUNT | MS_BIND, NULL) != 0) return errno;
    return 0;
}
