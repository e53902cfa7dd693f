/* LD_PRELOAD shim for test servers: gethostid() without a host name lookup.
 *
 * glibc's gethostid() reads /etc/hostid and, when that file does not exist, resolves
 * the machine's host name.  DCMTK calls it for every UID it generates, and Orthanc
 * generates UIDs while answering QIDO-RS and storing instances.  On a machine whose host
 * name is not in /etc/hosts (a fresh chroot or container) every such call waits for DNS,
 * seconds each, and concurrent QIDO-RS requests stall until clients time out.
 *
 * With /etc/hostid present this defers to glibc; otherwise it derives the id from the
 * host name itself (FNV-1a), as unique per machine as the name, with no lookup.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <unistd.h>

long gethostid(void)
{
    if (access("/etc/hostid", R_OK) == 0) {
        long (*real_gethostid)(void) = (long (*)(void))dlsym(RTLD_NEXT, "gethostid");
        if (real_gethostid)
            return real_gethostid();
    }
    char name[256] = {0};
    if (gethostname(name, sizeof name - 1) != 0)
        return 0;
    unsigned int hash = 2166136261u;
    for (const char *p = name; *p; ++p) {
        hash ^= (unsigned char)*p;
        hash *= 16777619u;
    }
    return (long)(int)hash; /* glibc's value is 32 bits, sign-extended */
}
