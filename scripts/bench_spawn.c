/* bench_spawn OUT CMD [ARGS...]: runs CMD, waits for it, writes to OUT one line
 * "exit maxrss_kb utime_us stime_us wall_us" from wait4's rusage.
 *
 * Why not from Python: Linux carries the peak RSS of the address space a process had before
 * exec into its ru_maxrss, so a child forked from a 25 MB Python interpreter reports at least
 * 25 MB whatever it runs. This launcher is small (about 1 MB), like /usr/bin/time, and unlike
 * /usr/bin/time it reports CPU time in microseconds instead of hundredths of a second.
 * Built by scripts/bench into $CARGO_TARGET_DIR/bench/. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_spawn OUT CMD [ARGS...]\n");
        return 2;
    }
    long long start = now_us();
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 1;
    }
    long long wall = now_us() - start;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    fprintf(out, "%d %ld %lld %lld %lld\n", code, ru.ru_maxrss,
            (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
            (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, wall);
    fclose(out);
    return code;
}
