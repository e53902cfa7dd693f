/* LD_PRELOAD shim for test servers: bind(INADDR_ANY / in6addr_any) -> loopback.
 *
 * Orthanc 1.10 has no listen-address option and its DICOM port binds every interface.
 * The harness compiles this file with gcc and preloads it so the sockets of a test
 * Orthanc listen on 127.0.0.1 (or ::1) only. Every other bind() passes through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
    static bind_fn real_bind;
    if (!real_bind) {
        real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
        if (!real_bind) {
            errno = ENOSYS;
            return -1;
        }
    }
    if (addr && addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        struct sockaddr_in a;
        memcpy(&a, addr, sizeof a);
        if (a.sin_addr.s_addr == htonl(INADDR_ANY)) {
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
        }
    } else if (addr && addr->sa_family == AF_INET6
               && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 a6;
        memcpy(&a6, addr, sizeof a6);
        if (memcmp(&a6.sin6_addr, &in6addr_any, sizeof in6addr_any) == 0) {
            a6.sin6_addr = in6addr_loopback;
            return real_bind(fd, (const struct sockaddr *)&a6, sizeof a6);
        }
    }
    return real_bind(fd, addr, len);
}
