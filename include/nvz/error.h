/* Errors as values: a fallible library call returns < 0 (or NULL) and fills
 * *err with an errno, an OpenVZ exit status and a message chain. */
#ifndef NVZ_ERROR_H
#define NVZ_ERROR_H

#include <stdarg.h>

/* OpenVZ vzctl exit statuses (include/vzerror.h): a public API for scripts. */
enum nvz_status {
	NVZ_OK = 0,
	NVZ_E_SETUBC = 1,
	NVZ_E_SYSTEM = 3,
	NVZ_E_RESOURCE = 6,
	NVZ_E_EXEC = 8,
	NVZ_E_LOCKED = 9,
	NVZ_E_NOCONFIG = 10,
	NVZ_E_NOSCRIPT = 11, /* VZ_NOSCRIPT: runscript's script not found */
	NVZ_E_NOACCESS = 12,
	NVZ_E_SETCAP = 13,
	NVZ_E_NOVECONFIG = 14,
	NVZ_E_CHKPNT = 16,  /* VZ_CHKPNT_ERROR */
	NVZ_E_RESTORE = 17, /* VZ_RESTORE_ERROR */
	NVZ_E_SYNTAX = 20,
	NVZ_E_VALUE = 21,
	NVZ_E_VE_ROOT_NOTSET = 22,
	NVZ_E_VE_PRIVATE_NOTSET = 23,
	NVZ_E_TEMPLATE_NOTSET = 24,
	NVZ_E_OSTEMPLATE_NOTSET = 29,
	NVZ_E_NOT_RUNNING = 31,
	NVZ_E_RUNNING = 32,
	NVZ_E_STOP = 33,
	NVZ_E_CANT_ADDIP = 34, /* VZ_CANT_ADDIP */
	NVZ_E_FS_NOT_MOUNTED = 40,
	NVZ_E_FS_MOUNTED = 41,
	NVZ_E_NOPRIVATE = 43,
	NVZ_E_PRIVATE_EXISTS = 44,
	NVZ_E_NO_DISKSPACE = 46,
	NVZ_E_BAD_TEMPLATE = 47,
	NVZ_E_CANT_CREATE_PRIVATE = 48,
	NVZ_E_MOUNT = 50,
	NVZ_E_UMOUNT = 51,
	NVZ_E_DELETE = 52,
	NVZ_E_CANT_CREATE_DIR = 54,
	NVZ_E_DISKSPACE_NOTSET = 63,
	NVZ_E_BAD_HOSTNAME = 70,
	NVZ_E_BAD_DNS = 72,
	NVZ_E_BAD_SEARCHDOMAIN = 73,
	NVZ_E_PASSWD = 74,
	NVZ_E_LOCKDIR_NOTSET = 77,
	NVZ_E_ACTIONSCRIPT = 79,
	NVZ_E_CONFIG_COPY = 82,
	NVZ_E_INVALID_CONFIG = 85,
	NVZ_E_DEVICES = 86,
	NVZ_E_OSTEMPLATE_NOT_FOUND = 91,
	NVZ_E_NETDEV = 104, /* VZ_NETDEV_ERROR */
	NVZ_E_START_DISABLED = 105,
	NVZ_E_APPLYCONFIG = 109,
	NVZ_E_VETH = 130, /* VZ_VETH_ERROR: a veth or its vznetcfg hook failed */
	NVZ_E_NAME = 131,
	NVZ_E_WAIT = 133,
	NVZ_E_CONFIG_SAVE = 139,
	NVZ_E_CREATE_SNAPSHOT = 156, /* VZCTL_E_CREATE_SNAPSHOT */
	NVZ_E_DELETE_SNAPSHOT = 158, /* VZCTL_E_DELETE_SNAPSHOT */
	NVZ_E_SWITCH_SNAPSHOT = 159, /* VZCTL_E_SWITCH_SNAPSHOT */
	NVZ_E_MOUNT_SNAPSHOT = 160,  /* VZCTL_E_MOUNT_SNAPSHOT */
	NVZ_E_UMOUNT_SNAPSHOT = 161, /* VZCTL_E_UMOUNT_SNAPSHOT */
	NVZ_E_LIST_SNAPSHOT = 167,   /* VZCTL_E_LIST_SNAPSHOT */
};

struct nvz_error {
	int code;   /* errno value, always > 0 */
	int status; /* enum nvz_status, the exit status a command should use */
	char *msg;
};

/* Set *err (if not already set) and return -code. */
__attribute__((format(printf, 4, 5)))
int nvz_err(struct nvz_error **err, int status, int code, const char *fmt, ...);
/* Like nvz_err, appending ": strerror(code)". */
__attribute__((format(printf, 4, 5)))
int nvz_err_sys(struct nvz_error **err, int status, int code, const char *fmt, ...);
/* Prefix context onto an existing error: "ctx: old message". Returns -code. */
__attribute__((format(printf, 2, 3)))
int nvz_err_wrap(struct nvz_error **err, const char *fmt, ...);
void nvz_error_free(struct nvz_error *e);
static inline void nvz_error_freep(struct nvz_error **e)
{
	nvz_error_free(*e);
}
#define cleanup_error __attribute__((cleanup(nvz_error_freep)))
void nvz_error_clear(struct nvz_error **err);

#endif
