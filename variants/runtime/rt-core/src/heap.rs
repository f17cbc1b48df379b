//! The global allocator over one memory range, given at boot by the target's runtime.

use linked_list_allocator::LockedHeap;

/// The heap. An empty heap until [`init_heap`]; every allocation fails before that.
#[cfg_attr(target_os = "none", global_allocator)]
static HEAP: LockedHeap = LockedHeap::empty();

/// Alignment of the start of the heap (the largest alignment a plain allocation asks for).
const START_ALIGN: usize = 16;

/// Hands `[start, end)` to the allocator. `start` is rounded up to 16 bytes; a range that is
/// empty after that leaves the heap empty.
///
/// # Safety
///
/// Call it once, before the first allocation. The range must be RAM that nothing else uses
/// for the rest of the program (not the image, not the stack, not device memory).
pub unsafe fn init_heap(start: usize, end: usize) {
    let aligned = start
        .checked_add(START_ALIGN - 1)
        .map(|s| s & !(START_ALIGN - 1));
    let Some(aligned) = aligned else { return };
    if aligned >= end {
        return;
    }
    // SAFETY: the caller guarantees the range is unused RAM owned by the heap from now on,
    // and that this is the only initialisation.
    unsafe { HEAP.lock().init(aligned as *mut u8, end - aligned) };
}

/// Bytes the heap manages (0 before [`init_heap`]).
pub fn size() -> usize {
    HEAP.lock().size()
}

/// Bytes currently allocated, including the allocator's own rounding.
pub fn used() -> usize {
    HEAP.lock().used()
}

/// Bytes not allocated (possibly fragmented).
pub fn free() -> usize {
    HEAP.lock().free()
}
