/* files.c — writing outputs without ever leaving a half-written file.
 *
 * Each file is written to a temporary name in the same directory, flushed to
 * disk, and renamed over the target: readers see the old file or the new one,
 * never a torn one, even if the process is killed mid-write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"

static int io_error(msim_error *err, const char *path, const char *what)
{
    int rc = msim_error_set(err, -MSIM_EIO, "cannot %s: %s", what, strerror(errno));
    if (err) snprintf(err->file, sizeof err->file, "%s", path);
    return rc;
}

int msim__write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

int msim_write_file_atomic(const char *path, const msim_buf *buf, msim_error *err)
{
    if (buf->failed) return msim_error_set(err, -MSIM_ENOMEM, "out of memory formatting %s", path);
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return msim_error_set(err, -MSIM_EIO, "path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return io_error(err, path, "create a temporary file");
    if (msim__write_all(fd, buf->data ? buf->data : "", buf->len) || fsync(fd)) {
        int rc = io_error(err, path, "write");
        close(fd);
        unlink(tmp);
        return rc;
    }
    fchmod(fd, 0644);
    if (close(fd) || rename(tmp, path)) {
        int rc = io_error(err, path, "write");
        unlink(tmp);
        return rc;
    }
    return 0;
}

static int make_dir(const char *dir, msim_error *err)
{
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
        errno = ENOTDIR;
    }
    return io_error(err, dir, "create the output directory");
}

int msim_write_dir_files(const char *dir, const char *const *names, const msim_buf *const *bufs,
                         size_t n, msim_error *err)
{
    int rc = make_dir(dir, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = msim_write_file_atomic(path, bufs[i], err);
    }
    return rc;
}

int msim__write_summary_pair(const char *dir, msim_buf *json, msim_buf *csv, msim_error *err)
{
    const msim_buf *bufs[] = {json, csv};
    const char *names[] = {"summary.json", "timeseries.csv"};
    int rc = msim_write_dir_files(dir, names, bufs, 2, err);
    msim_buf_free(json);
    msim_buf_free(csv);
    return rc;
}

int msim_write_outputs(const msim_result *r, const char *dir, msim_error *err)
{
    msim_buf json = {0}, csv = {0};
    msim_report_json(r, &json);
    msim_report_csv(r, &csv);
    return msim__write_summary_pair(dir, &json, &csv, err);
}
