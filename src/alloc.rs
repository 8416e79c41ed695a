//! The process's allocator: the system's, with a cache of small freed
//! blocks for a thread that asks for one.
//!
//! Exim evaluates an expansion in a pool that it resets after each line;
//! rexim's expansions make and drop a few short strings instead, and in
//! `-be` glibc's malloc and free were a fifth of the cost of a line. A
//! thread that turns the cache on (`-be`, which runs on one thread) keeps
//! up to `KEEP` freed blocks of each size class and hands them out again
//! without a call into malloc. Until a thread turns it on (and in
//! processes that never do, the daemon) no thread looks at a cache; only
//! the thread that turned caching on keeps blocks, so none is left in the
//! cache of a thread that ends.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr::null_mut;

/// Blocks of up to this many bytes are cached, in classes of `STEP`.
const SMALL: usize = 256;
const STEP: usize = 16;
const CLASSES: usize = SMALL / STEP;
/// Freed blocks kept per class.
const KEEP: u32 = 64;

pub struct Allocator;

struct Cache {
    enabled: bool,
    /// Each class's freed blocks, chained through their first word.
    heads: [*mut u8; CLASSES],
    counts: [u32; CLASSES],
}

thread_local! {
    static CACHE: UnsafeCell<Cache> = const {
        UnsafeCell::new(Cache { enabled: false, heads: [null_mut(); CLASSES], counts: [0; CLASSES] })
    };
}

/// Whether any thread caches: until one does, no thread looks at its
/// cache at all (the daemon's threads never do).
static ANY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Cache small blocks on this thread from now on.
pub fn cache_on_this_thread() {
    ANY.store(true, std::sync::atomic::Ordering::Relaxed);
    // SAFETY: the cache is this thread's own and no borrow of it is live.
    let _ = CACHE.try_with(|c| unsafe { (*c.get()).enabled = true });
}

/// The class of a small block, or None for one the system handles alone.
#[inline]
fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= SMALL && layout.align() <= STEP).then(|| (layout.size().max(1) - 1) / STEP)
}

/// Every small block is made with its class's full size, whichever
/// thread makes it and whether or not caching is on yet, so that a block
/// freed into a cache serves any size of its class.
#[inline]
fn class_layout(class: usize) -> Layout {
    // SAFETY: the size is a non-zero multiple of the alignment, a power of two.
    unsafe { Layout::from_size_align_unchecked((class + 1) * STEP, STEP) }
}

#[inline]
fn with_cache<R>(f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
    // SAFETY: the cache is only touched inside this module, never across
    // a call that could come back into it.
    CACHE.try_with(|c| f(unsafe { &mut *c.get() })).ok()
}

#[inline]
fn caching() -> bool {
    ANY.load(std::sync::atomic::Ordering::Relaxed)
}

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class(layout) else {
            return unsafe { System.alloc(layout) };
        };
        let cached = caching().then(|| with_cache(|c| c.pop(class))).flatten().unwrap_or(null_mut());
        if cached.is_null() {
            unsafe { System.alloc(class_layout(class)) }
        } else {
            cached
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(class) = class(layout) else {
            return unsafe { System.dealloc(ptr, layout) };
        };
        if caching() && with_cache(|c| c.push(class, ptr)) == Some(true) {
            return;
        }
        unsafe { System.dealloc(ptr, class_layout(class)) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY (whole function): the caller's contract of GlobalAlloc::realloc.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            (None, None) => unsafe { System.realloc(ptr, layout, new_size) },
            // The block already has its class's full size.
            (Some(a), Some(b)) if a == b => ptr,
            _ => {
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

impl Cache {
    /// A cached block of the class, or null.
    #[inline]
    fn pop(&mut self, class: usize) -> *mut u8 {
        let head = self.heads[class];
        if self.enabled && !head.is_null() {
            // SAFETY: a cached block holds the next one's address.
            self.heads[class] = unsafe { *(head as *mut *mut u8) };
            self.counts[class] -= 1;
            return head;
        }
        null_mut()
    }

    /// Keep a freed block; false when the class has enough.
    #[inline]
    fn push(&mut self, class: usize, ptr: *mut u8) -> bool {
        if !self.enabled || self.counts[class] >= KEEP {
            return false;
        }
        // SAFETY: the block is at least one word long and ours now.
        unsafe { *(ptr as *mut *mut u8) = self.heads[class] };
        self.heads[class] = ptr;
        self.counts[class] += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks handed out again keep what is written to them apart, across
    /// sizes, growth and shrinking into other classes and out of them.
    #[test]
    fn reused_blocks_hold_their_contents() {
        std::thread::spawn(|| {
            cache_on_this_thread();
            let a = Allocator;
            let sizes = [1usize, 7, 16, 17, 31, 64, 100, 255, 256, 257, 1000, 4096];
            for round in 0..3u8 {
                let mut blocks = Vec::new();
                for (i, &size) in sizes.iter().enumerate() {
                    let layout = Layout::from_size_align(size, 1).unwrap();
                    let p = unsafe { a.alloc(layout) };
                    assert!(!p.is_null());
                    unsafe { std::ptr::write_bytes(p, i as u8 ^ round, size) };
                    blocks.push((p, layout, i as u8 ^ round));
                }
                for (p, layout, fill) in blocks.iter_mut() {
                    let new_size = if layout.size() > 128 { layout.size() / 3 + 1 } else { layout.size() * 5 };
                    let q = unsafe { a.realloc(*p, *layout, new_size) };
                    let kept = layout.size().min(new_size);
                    assert!(unsafe { std::slice::from_raw_parts(q, kept) }.iter().all(|b| b == fill));
                    *p = q;
                    *layout = Layout::from_size_align(new_size, 1).unwrap();
                    unsafe { std::ptr::write_bytes(q, *fill, new_size) };
                }
                for (p, layout, fill) in blocks {
                    assert!(unsafe { std::slice::from_raw_parts(p, layout.size()) }.iter().all(|&b| b == fill));
                    unsafe { a.dealloc(p, layout) };
                }
            }
        })
        .join()
        .unwrap();
    }
}
