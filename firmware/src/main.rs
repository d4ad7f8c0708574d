//! static-rnn on a Cortex-M4F, with no heap: streaming inference with a model exported on the
//! host, then training on the device (BPTT, gradient clipping, Adam), every buffer on the stack
//! or in flash.
//!
//! Built for `thumbv7em-none-eabihf` and run on qemu's `mps2-an386` board (`cargo run --release`
//! in this directory, with `qemu-system-arm` installed). It prints each result with its bit pattern
//! and compares it with `expected.txt`, which the host reference (`tools/firmware-reference`) wrote
//! by running the same code (`scenario.rs`) on x86-64; it exits through semihosting with success
//! only if every line matches bit for bit, the held-out loss after training is below
//! `LOSS_THRESHOLD`, and the stack's measured peak is within `STACK_BUDGET`.
//!
//! The library is `#![forbid(unsafe_code)]`; the `unsafe` here is the firmware's own: reading the
//! linker's stack symbols and painting the free stack to measure its peak (see [`stack`]).

#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod scenario;
mod stack;

use core::fmt::{self, Write as _};
use core::mem::size_of;
use cortex_m_rt::{ExceptionFrame, entry, exception};
use cortex_m_semihosting::{debug, hprintln};
use scenario::{Event, Grads, Model, Sample, SequenceTargets};
use static_rnn::Adam;

// `pub const MODEL: static_rnn::Rnn<1, 16, 1, …> = …;`, written on the host by
// `Rnn::to_rust_source` (tools/firmware-reference).
include!("model.rs");

/// The exported model, built at compile time, in flash.
static MODEL_IN_FLASH: Model = MODEL;

/// The lines the firmware must print, computed on the host from the same code.
const EXPECTED: &str = include_str!("../expected.txt");

/// RAM on the board: `LENGTH(RAM)` in `memory.x`.
const RAM_BYTES: usize = 256 * 1024;

/// The stack the firmware may use; it fails if the measured peak is larger.
const STACK_BUDGET: usize = 24 * 1024;

/// What training keeps on the stack, from the model's compile-time sizes: the model being trained
/// and its gradient, Adam's three moment buffers, the BPTT trace of one sequence
/// (`h_0` + `SEQUENCE` steps of `z, h, a, ŷ`), and the training and held-out sequences with their
/// targets.
const WORKING_SET: usize = 2 * Model::PARAMETER_BYTES
    + size_of::<Adam<Grads>>()
    + Model::trace_bytes(scenario::SEQUENCE)
    + 2 * (size_of::<[Sample; scenario::SEQUENCE]>() + size_of::<SequenceTargets>());

const _: () = assert!(size_of::<Adam<Grads>>() >= 3 * Model::PARAMETER_BYTES);
const _: () = assert!(
    WORKING_SET <= STACK_BUDGET / 2,
    "leave half the budget to call frames"
);
const _: () = assert!(STACK_BUDGET + Model::PARAMETER_BYTES <= RAM_BYTES);

#[entry]
fn main() -> ! {
    stack::paint();
    hprintln!(
        "static-rnn firmware: Rnn<{}, {}, {}, Tanh, Identity, f32>, {} parameters ({} bytes, in flash)",
        scenario::INPUTS,
        scenario::HIDDEN,
        scenario::OUTPUTS,
        Model::PARAMETERS,
        Model::PARAMETER_BYTES
    );
    for line in scenario::PROVENANCE.lines() {
        hprintln!("| {}", line);
    }
    hprintln!(
        "trace {} bytes per step; training working set {} bytes (host steps {}, seed {})",
        Model::TRACE_BYTES_PER_STEP,
        WORKING_SET,
        scenario::HOST_STEPS,
        scenario::SEED
    );

    // The FPU's mode, as cortex-m-rt leaves it (it only switches the FPU on): IEEE 754 arithmetic
    // needs round to nearest, no flush-to-zero and NaNs propagated, as on the host.
    let mode = cortex_m::register::fpscr::read();
    let ieee = mode.rmode().is_nearest() && !mode.fz() && !mode.dn();
    hprintln!(
        "FPSCR {:#010x}: round to nearest {}, flush-to-zero {}, default NaN {}",
        mode.bits(),
        mode.rmode().is_nearest(),
        mode.fz(),
        mode.dn()
    );

    let mut expected = EXPECTED.lines();
    let (mut lines, mut mismatches) = (0_usize, 0_usize);
    let outcome = scenario::run(&MODEL_IN_FLASH, &mut |event: Event| {
        let mut line = Line::new();
        let written = write!(line, "{event}");
        hprintln!("{}", line.as_str());
        lines += 1;
        if written.is_err() || expected.next() != Some(line.as_str()) {
            mismatches += 1;
            hprintln!("  ^ differs from expected.txt");
        }
    });
    mismatches += expected.count(); // lines the host printed and the firmware did not

    let flags = cortex_m::register::fpscr::read();
    hprintln!(
        "FPSCR {:#010x} after the work: inexact {}, underflow {}, overflow {}, invalid {}, division by zero {}",
        flags.bits(),
        flags.ixc(),
        flags.ufc(),
        flags.ofc(),
        flags.ioc(),
        flags.dzc()
    );

    let mut ok = ieee;
    match outcome {
        Ok((before, after)) => {
            let fell = after < scenario::LOSS_THRESHOLD;
            hprintln!(
                "held-out loss on the device task: {:?} before training, {:?} after {} steps ({} {:?})",
                before,
                after,
                scenario::DEVICE_STEPS,
                if fell { "below" } else { "NOT below" },
                scenario::LOSS_THRESHOLD
            );
            ok &= fell;
        }
        Err(error) => {
            hprintln!("training stopped: {}", error);
            ok = false;
        }
    }
    hprintln!(
        "{} of {} lines bit-identical to the host's (expected.txt)",
        lines - mismatches.min(lines),
        lines
    );
    ok &= mismatches == 0;

    let peak = stack::peak();
    let available = stack::size();
    hprintln!(
        "stack: peak {} bytes (painted), budget {}, {} available",
        peak,
        STACK_BUDGET,
        available
    );
    ok &= peak <= STACK_BUDGET && STACK_BUDGET <= available;

    hprintln!("{}", if ok { "PASS" } else { "FAIL" });
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// One line of text in a fixed buffer: `Display` without a heap.
struct Line {
    bytes: [u8; 128],
    len: usize,
}

impl Line {
    fn new() -> Self {
        Self {
            bytes: [0; 128],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are copied in, so the bytes are UTF-8.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("hard fault: {:?}", frame);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
