/* The benchmark's load client and floor, in C so that the client costs little next to what
 * it measures.
 *   load socket PATH URI BODYFILE CALLS CONCURRENCY   POST over keep-alive Unix connections
 *   load spawn HOOK BODYFILE CALLS CONCURRENCY         posix_spawn the hook, write, read, wait
 * Prints one line: calls= errors= seconds= cps= p50= p90= p99= max= (milliseconds) and cpu_us=,
 * this process's own CPU time per call (user + system, children not counted): in spawn mode,
 * what the floor's parent spends on each hook. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static const char *mode, *target, *uri;
static char *body;
static size_t body_len;
static long calls_per_thread;
static double *latencies;
static long errors;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int connect_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { close(fd); return -1; }
    return fd;
}

/* One POST on a keep-alive connection; 0 when the answer is a 200. */
static int http_call(int fd, const char *body, char *buf, size_t cap) {
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: plugin\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
                     "Content-Length: %zu\r\n\r\n", uri, body_len);
    struct iovec parts[2] = {{head, (size_t)n}, {(void *)body, body_len}};
    struct msghdr msg = {.msg_iov = parts, .msg_iovlen = 2};
    if (sendmsg(fd, &msg, MSG_NOSIGNAL) != (ssize_t)(n + body_len)) return -1;
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got - 1);
        if (r <= 0) return -1;
        got += r;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) continue;
        char *cl = strcasestr(buf, "Content-Length:");
        size_t want = (end - buf) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        if (got >= want) return strncmp(buf, "HTTP/1.1 200", 12) == 0 ? 0 : 1;
    }
}

/* The floor: what any exec-per-call host must do at least. */
static int spawn_call(char *buf, size_t cap) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    char *argv[] = {(char *)target, "NetworkDriver.EndpointOperInfo", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, target, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    if (rc) { close(in[1]); close(out[0]); return -1; }
    if (write(in[1], body, body_len) < 0) {}
    close(in[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(out[0], buf + got, cap - got - 1)) > 0) got += r;
    close(out[0]);
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && got > 0 ? 0 : 1;
}

static void *worker(void *arg) {
    long index = (long)arg;
    char *buf = malloc(1 << 20);
    /* Each connection calls for its own network, as concurrent Docker calls usually are:
       calls on one network are served one at a time by design. */
    char *mine = malloc(body_len + 1);
    memcpy(mine, body, body_len);
    mine[body_len] = 0;
    char *id = strstr(mine, "\"NetworkID\"");
    if (id) id = strchr(id + 11, '"');  /* the value's opening quote, after the colon */
    if (id && strlen(id) > 3) { char hex[3]; snprintf(hex, sizeof hex, "%02lx", index & 0xff); memcpy(id + 1, hex, 2); }
    int fd = strcmp(mode, "socket") == 0 ? connect_unix(target) : -1;
    for (long i = 0; i < calls_per_thread; i++) {
        double t0 = now();
        int rc;
        if (fd >= 0 || strcmp(mode, "socket") == 0) {
            if (fd < 0) fd = connect_unix(target);
            rc = fd < 0 ? -1 : http_call(fd, mine, buf, 1 << 20);
            if (rc < 0 && fd >= 0) { close(fd); fd = -1; }
        } else {
            rc = spawn_call(buf, 1 << 20);
        }
        latencies[index * calls_per_thread + i] = (now() - t0) * 1000;
        if (rc != 0) { pthread_mutex_lock(&lock); errors++; pthread_mutex_unlock(&lock); }
    }
    if (fd >= 0) close(fd);
    free(buf);
    free(mine);
    return NULL;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: load socket PATH URI BODYFILE CALLS CONC | load spawn HOOK BODYFILE CALLS CONC\n");
        return 2;
    }
    mode = argv[1];
    target = argv[2];
    int shift = strcmp(mode, "socket") == 0 ? 1 : 0;
    uri = shift ? argv[3] : "";
    FILE *f = fopen(argv[3 + shift], "rb");
    if (!f) { perror(argv[3 + shift]); return 2; }
    body = malloc(1 << 20);
    body_len = fread(body, 1, 1 << 20, f);
    fclose(f);
    long calls = atol(argv[4 + shift]);
    int conc = atoi(argv[5 + shift]);
    calls_per_thread = calls / conc;
    calls = calls_per_thread * conc;
    latencies = calloc(calls, sizeof(double));
    pthread_t threads[256];
    double t0 = now();
    for (long i = 0; i < conc; i++) pthread_create(&threads[i], NULL, worker, (void *)i);
    for (int i = 0; i < conc; i++) pthread_join(threads[i], NULL);
    double seconds = now() - t0;
    qsort(latencies, calls, sizeof(double), compare);
    struct rusage own;
    getrusage(RUSAGE_SELF, &own);
    double cpu = own.ru_utime.tv_sec + own.ru_utime.tv_usec / 1e6 + own.ru_stime.tv_sec + own.ru_stime.tv_usec / 1e6;
    printf("calls=%ld errors=%ld seconds=%.3f cps=%.0f p50=%.3f p90=%.3f p99=%.3f max=%.3f cpu_us=%.0f\n", calls, errors,
           seconds, calls / seconds, latencies[calls / 2], latencies[calls * 9 / 10], latencies[calls * 99 / 100],
           latencies[calls - 1], cpu * 1e6 / calls);
    return 0;
}
