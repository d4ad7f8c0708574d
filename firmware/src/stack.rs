//! The stack's peak use, measured by painting.
//!
//! cortex-m-rt puts `.data` and `.bss` at the start of RAM and the stack at its end, growing down:
//! the stack may use `[_stack_end, _stack_start)`. At start-up, [`paint`] fills that range below
//! the current frame with a pattern; after the work, [`peak`] finds the lowest word that no longer
//! holds it. Everything above that word has been written, so `_stack_start − address` is the
//! high-water mark (exact to a word, unless the program happened to write the pattern itself at
//! its deepest point, which would make the figure smaller by at most that run of words).
//!
//! This is the firmware's only `unsafe`: raw reads and writes of memory that no Rust object owns
//! (free stack below the stack pointer).

/// The paint: an unlikely word (and not a valid `f32` a computation would leave: a NaN payload).
const PAINT: u32 = 0x7fc5_a5a5;

/// Bytes left unpainted below the stack pointer: [`paint`]'s own frame.
const MARGIN: usize = 256;

unsafe extern "C" {
    /// The top of the stack (one past its highest byte): the end of RAM (cortex-m-rt's `link.x`).
    static _stack_start: u32;
    /// The lowest address the stack may reach: the end of `.data`, `.bss` and `.uninit`.
    static _stack_end: u32;
}

fn top() -> usize {
    (&raw const _stack_start) as usize
}

fn bottom() -> usize {
    (&raw const _stack_end) as usize
}

/// The bytes the stack may use: `_stack_start − _stack_end`.
pub fn size() -> usize {
    top() - bottom()
}

/// Fills the free stack, `[_stack_end, SP − MARGIN)`, with [`PAINT`].
#[inline(never)]
pub fn paint() {
    let end = cortex_m::register::msp::read() as usize - MARGIN;
    let mut address = bottom();
    while address < end {
        // SAFETY: `address` is word-aligned (cortex-m-rt aligns `_stack_end` to 4) and lies in
        // RAM between the end of the statics and below this function's frame (and interrupts are
        // off): memory no Rust object owns at this point.
        unsafe { core::ptr::write_volatile(address as *mut u32, PAINT) };
        address += 4;
    }
}

/// The stack's high-water mark since [`paint`], in bytes.
#[inline(never)]
pub fn peak() -> usize {
    let mut address = bottom();
    // SAFETY: as in `paint`, word-aligned addresses inside the stack's RAM; a read of a word
    // below the stack pointer only observes what was written there.
    while address < top() && unsafe { core::ptr::read_volatile(address as *const u32) } == PAINT {
        address += 4;
    }
    top() - address
}
