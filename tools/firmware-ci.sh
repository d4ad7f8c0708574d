#!/usr/bin/env bash
# The firmware in CI (called by .ci/run; runs alone too, from any directory):
#   1. the host reference checks that firmware/src/model.rs and firmware/expected.txt are what it
#      writes today (bit for bit: same libm math as the firmware);
#   2. builds the firmware for thumbv7em-none-eabihf and prints its section sizes;
#   3. runs it on qemu's mps2-an386 (Cortex-M4F) under a time limit, and checks that it exits with
#      success, that every line it printed equals expected.txt, and that the held-out loss after
#      training is below LOSS_THRESHOLD (firmware/src/scenario.rs).
# Installs qemu-system-arm and binutils-arm-none-eabi with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { printf 'firmware-ci: %s\n' "$*" >&2; exit 1; }

if ! command -v qemu-system-arm >/dev/null || ! command -v arm-none-eabi-size >/dev/null; then
    step "install qemu-system-arm and binutils-arm-none-eabi (Debian packages)"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq qemu-system-arm binutils-arm-none-eabi >/dev/null
fi
qemu-system-arm --version | head -n 1
rustup target add thumbv7em-none-eabihf >/dev/null

step "firmware and host reference: format and clippy"
cargo fmt --manifest-path firmware/Cargo.toml -- --check
cargo fmt --manifest-path tools/firmware-reference/Cargo.toml -- --check
(cd firmware && cargo clippy --quiet --release -- -D warnings)
cargo clippy --quiet --manifest-path tools/firmware-reference/Cargo.toml -- -D warnings

step "firmware: the committed model and expected output are current (host reference, libm math)"
cargo run --quiet --manifest-path tools/firmware-reference/Cargo.toml -- --check

step "firmware: build (release, thumbv7em-none-eabihf)"
(cd firmware && cargo build --release)
elf=firmware/target/thumbv7em-none-eabihf/release/static-rnn-firmware
arm-none-eabi-size -A "$elf" | grep -E '^(section|\.vector_table|\.text|\.rodata|\.data|\.bss|\.uninit) '
arm-none-eabi-size "$elf"

step "firmware: run on qemu mps2-an386 (Cortex-M4F), 120 s limit"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
timeout 120 qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic \
    -semihosting-config enable=on,target=native -kernel "$elf" >"$out" || status=$?
cat "$out"
[ "$status" -eq 0 ] || fail "the firmware exited with status $status (124: timed out)"

diff <(grep -E '^(infer|eval |train) ' "$out") firmware/expected.txt >/dev/null ||
    fail "the firmware's output differs from firmware/expected.txt"
lines=$(wc -l <firmware/expected.txt)
echo "firmware-ci: all $lines result lines bit-identical to the host reference"

threshold=$(sed -n 's/^pub const LOSS_THRESHOLD: f32 = \(.*\);$/\1/p' firmware/src/scenario.rs)
last=$(grep -E '^eval ' "$out" | tail -n 1 | sed -n 's/.*loss=0x[0-9a-f]* (\(.*\))$/\1/p')
[ -n "$threshold" ] && [ -n "$last" ] || fail "could not read the loss threshold or the last held-out loss"
awk -v loss="$last" -v threshold="$threshold" 'BEGIN { exit !(loss < threshold) }' ||
    fail "held-out loss $last is not below $threshold"
echo "firmware-ci: held-out loss after on-device training $last < $threshold"
grep -qx 'PASS' "$out" || fail "the firmware did not print PASS"
