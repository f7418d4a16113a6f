# Shared by the benchmark scripts (sourced, not run): GNU time, the machine facts and the load.
#
#   . "$ROOT/benches/common.sh"
#   ensure_gnu_time            installs GNU time with apt-get when /usr/bin/time is not it
#   load_average               prints the 1/5/15-minute load average ("1.52 0.93 1.53")
#   machine_facts              sets CPU, CORES, MEM_GB, OS, RUSTC
#   machine_line               prints "Machine: <cpu>, <n> cores, <m> GiB RAM; <os>; <rustc>"
#   target_dir                 prints the cargo target directory (CARGO_TARGET_DIR or ROOT/target)

# GNU time gives the peak RSS (%M); the shell keyword `time` does not.
ensure_gnu_time() {
    if ! /usr/bin/time -f "%e" true >/dev/null 2>&1; then
        echo "installing GNU time" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time) >&2
    fi
}

load_average() {
    cut -d' ' -f1-3 /proc/loadavg
}

machine_facts() {
    local model family number hyper
    model=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
    family=$(lscpu | sed -n 's/^CPU family: *//p' | head -n1)
    number=$(lscpu | sed -n 's/^Model: *//p' | head -n1)
    hyper=$(lscpu | sed -n 's/^Hypervisor vendor: *\(.*\)/, \1 guest/p' | head -n1)
    CPU="$model (family $family, model $number$hyper)"
    CORES=$(nproc)
    MEM_GB=$(awk '/MemTotal/ {printf "%.1f", $2 / 1024 / 1024}' /proc/meminfo)
    OS=$( (. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") || uname -s)
    RUSTC=$(rustc --version 2>/dev/null || echo "rustc unknown")
}

machine_line() {
    machine_facts
    echo "Machine: $CPU, $CORES cores, $MEM_GB GiB RAM; $OS; $RUSTC"
}

# The cargo target directory (CARGO_TARGET_DIR when set, else ROOT/target).
target_dir() {
    echo "${CARGO_TARGET_DIR:-$ROOT/target}"
}
