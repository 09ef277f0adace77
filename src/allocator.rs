//! The binary's allocator: mimalloc for Rust's heap, and for SQLite's as well.
//!
//! A `perf` profile of the embedded walk (release, 8 clients) spent ~40 % of the process's CPU in
//! sqlx's SQLite worker threads, and a quarter of that in glibc malloc: `malloc_consolidate`
//! (4.9 % of all samples), arena locks (`pthread_mutex_lock`/`unlock`, `__lll_lock_wait`/`wake`:
//! ~10 %) — sqlx copies every column value (`sqlite3_value_dup`, SQLite's allocator) in its
//! worker thread and frees it on a tokio worker, so each free takes the worker's arena lock
//! against its next `malloc`. mimalloc frees across threads without a lock. SQLite's memory
//! statistics are switched off too: with them on, every SQLite allocation takes a global mutex,
//! and nothing here reads them.

/// mimalloc instead of glibc's malloc: a profile of the walk benchmark spent about a quarter of
/// its CPU in glibc malloc/free (arena locks, consolidation), and glibc keeps a large arena per
/// thread that allocated heavily (the argon2id pool's 19 MiB blocks).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_decommits` in mimalloc.h's option enum (libmimalloc-sys exports no constant).
const MI_OPTION_PURGE_DECOMMITS: libmimalloc_sys::mi_option_t = 5;
/// `mi_option_allow_thp` in the same enum (mimalloc v3).
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// Sets both up; call first thing in `main`, before anything opens a database (SQLite takes its
/// configuration only before its first use).
pub fn configure() {
    // Give freed memory back with MADV_DONTNEED rather than MADV_FREE, so RSS falls when memory
    // is freed (measured: an idle identity process 52 MB -> 31 MB after its argon2id hashes).
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DECOMMITS, 1) };
    no_huge_pages();
    sqlite_on_mimalloc();
}

/// No transparent huge pages, unless `MIMALLOC_ALLOW_THP` asks for them. mimalloc v3 asks the
/// kernel for huge pages on its arenas (`MADV_HUGEPAGE`, which Debian's default THP mode
/// `madvise` honours), so every touched 2 MiB of an arena becomes resident whole. Measured with
/// `ecl bench idle`: idle services 36–60 MB with huge pages, 23–28 MB without; `ecl bench
/// ingest` (1 M events): 338 → 233 MB after ingestion, month close peak 565 → 462 MB, close time
/// and rating CPU unchanged. mimalloc reads the option when it maps memory, but its first
/// arena is mapped before `main`: `PR_SET_THP_DISABLE` takes the process (that arena too) out
/// of THP for the page faults to come.
fn no_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) };
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only; it fails harmlessly on kernels without it.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
}

fn sqlite_on_mimalloc() {
    use libsqlite3_sys as sql;
    use std::ffi::{c_int, c_void};

    unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
        unsafe { libmimalloc_sys::mi_malloc(n.max(0) as usize) }
    }
    unsafe extern "C" fn x_free(p: *mut c_void) {
        unsafe { libmimalloc_sys::mi_free(p) }
    }
    unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
        unsafe { libmimalloc_sys::mi_realloc(p, n.max(0) as usize) }
    }
    unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
        // SQLite asks only of its own live allocations, each smaller than 2 GiB.
        unsafe { libmimalloc_sys::mi_usable_size(p) as c_int }
    }
    unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
        unsafe { libmimalloc_sys::mi_good_size(n.max(0) as usize) as c_int }
    }
    unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
        sql::SQLITE_OK
    }
    unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

    let methods = sql::sqlite3_mem_methods {
        xMalloc: Some(x_malloc),
        xFree: Some(x_free),
        xRealloc: Some(x_realloc),
        xSize: Some(x_size),
        xRoundup: Some(x_roundup),
        xInit: Some(x_init),
        xShutdown: Some(x_shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SQLite copies the methods. Both calls fail (SQLITE_MISUSE) only once SQLite is in use;
    // it then keeps its own allocator, which works, only slower.
    let malloc = unsafe { sql::sqlite3_config(sql::SQLITE_CONFIG_MALLOC, &methods) };
    let stats = unsafe { sql::sqlite3_config(sql::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
    if malloc != sql::SQLITE_OK || stats != sql::SQLITE_OK {
        eprintln!("SQLite keeps its own allocator (sqlite3_config: {malloc}, {stats})");
    }
}
