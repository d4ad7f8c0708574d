//! A counting global allocator for the heap tests (`zero_alloc`, `train_alloc`): it forwards every
//! call to the system allocator and counts the calls a thread makes while it measures.
//!
//! Include it with `#[path = "common/counting_alloc.rs"] mod counting_alloc;`; it installs itself
//! as the test binary's global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct CountingAllocator;

thread_local! {
    // `const` initialisation with no destructor: reading them never allocates. Both are per
    // thread, so tests measuring at the same time do not count each other's allocations.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static EVENTS: Cell<usize> = const { Cell::new(0) };
}

fn record() {
    if COUNTING.with(Cell::get) {
        EVENTS.with(|events| events.set(events.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        record();
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// The number of heap events (allocations, reallocations, deallocations) `f` makes on this thread.
pub fn heap_events<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = EVENTS.with(Cell::get);
    COUNTING.with(|c| c.set(true));
    let result = std::hint::black_box(f());
    COUNTING.with(|c| c.set(false));
    (EVENTS.with(Cell::get) - before, result)
}
