#!/usr/bin/env bash
# Compiles the MakeCode (micro:bit) programs in programs/<name>/ to build/<name>/{v1,v2,universal}.hex
# entirely offline: the compiler comes from npm (pxt + pxt-microbit) and the C++ runtime from the
# hexcache that pxt-microbit ships, so no MakeCode cloud service is involved. See README.md.
#
# Usage: ./build.sh [--force] [name...]   (no names: every folder under programs/)
# Safe to run again: the install is skipped while package-lock.json is unchanged, and a program is
# skipped while its sources and the lock file are unchanged (--force rebuilds anyway).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

force=0
names=()
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    -*)
      echo "error: unknown option '$arg' (try --help)" >&2
      exit 2
      ;;
    *) names+=("$arg") ;;
  esac
done

now_ms() { date +%s%3N; }
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f s", (b - a) / 1000 }'; }
die() {
  echo "error: $*" >&2
  exit 1
}

# --- tools -------------------------------------------------------------------------------------
command -v node >/dev/null || die "node is not installed (Node 20 or newer is needed)"
command -v npm >/dev/null || die "npm is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "Node $(node --version) is too old; Node 20 or newer is needed"

# --- install the compiler (once per package-lock.json) ---------------------------------------
stamp_file="node_modules/.tsemu-install-stamp"
lock_sum="$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$lock_sum" ] &&
  [ -f node_modules/pxt-core/built/pxt.js ] && [ -d node_modules/pxt-microbit/built/hexcache ]; then
  echo "==> compiler already installed (node_modules matches package-lock.json)"
else
  echo "==> installing pxt + pxt-microbit from the npm registry (npm ci --ignore-scripts)"
  t0="$(now_ms)"
  # --ignore-scripts: nothing may fetch binaries at install time (puppeteer would download
  # Chrome, for instance); pxt build needs no install script.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_sum" >"$stamp_file"
  echo "    installed in $(elapsed "$t0") ($(du -sh node_modules | cut -f1) in node_modules)"
fi
# Tells the `pxt` CLI wrapper which installed target to run (it looks for node_modules/pxtcli.json
# in the current directory and its parents).
printf '{"targetdir":"pxt-microbit"}\n' >node_modules/pxtcli.json

# --- compile -----------------------------------------------------------------------------------
if [ "${#names[@]}" -eq 0 ]; then
  for dir in programs/*/; do names+=("$(basename "$dir")"); done
fi
[ "${#names[@]}" -gt 0 ] || die "no programs found under programs/"

# pxt keeps a cache in $HOME/.pxt; a private HOME keeps builds independent of this machine's past.
pxt_home="$here/build/.home"
mkdir -p "$pxt_home"
pxt=(node --require "$here/offline-guard.cjs" "$here/node_modules/pxt/pxt")

# The bundled hexcache only holds the C++ runtime for exactly these dependencies; anything else
# would need the MakeCode cloud compiler.
check_program() {
  # shellcheck disable=SC2016 # the $-expressions below are JavaScript template literals
  node -e '
    const fs = require("node:fs");
    const [dir] = process.argv.slice(1);
    const file = `${dir}/pxt.json`;
    let cfg;
    try {
      cfg = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
      console.error(`error: ${file}: ${e.code === "ENOENT" ? "missing" : e.message}`);
      process.exit(1);
    }
    const deps = Object.keys(cfg.dependencies ?? {}).sort().join(",");
    if (deps !== "core,microphone,radio") {
      console.error(`error: ${file}: dependencies must be exactly core, radio and microphone for an offline build (found: ${deps || "none"})`);
      process.exit(1);
    }
    for (const f of cfg.files ?? []) {
      if (!fs.existsSync(`${dir}/${f}`)) {
        console.error(`error: ${file}: lists "${f}", which does not exist`);
        process.exit(1);
      }
    }
  ' "$1"
}

failed=()
for name in "${names[@]}"; do
  src="programs/$name"
  out="build/$name"
  work="build/.work/$name"
  [ -d "$src" ] || die "no program '$name' (expected a folder $src/)"
  check_program "$src"

  inputs_sum="$( (cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum) |
    cat - package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ "$force" -eq 0 ] && [ -f "$out/.inputs" ] && [ "$(cat "$out/.inputs")" = "$inputs_sum" ] &&
    [ -f "$out/v1.hex" ] && [ -f "$out/universal.hex" ]; then
    echo "==> $name: up to date"
    continue
  fi

  echo "==> $name: compiling"
  t0="$(now_ms)"
  rm -rf "$work" "$out"
  mkdir -p "$work" "$out"
  cp -R "$src/." "$work/"
  log="$here/$out/pxt.log"
  # `pxt install` copies core/radio/microphone from the target into pxt_modules/; `pxt build`
  # compiles the TypeScript and links it with the cached C++ runtime into built/*.hex.
  if ! (cd "$work" && HOME="$pxt_home" "${pxt[@]}" install && HOME="$pxt_home" "${pxt[@]}" build) >"$log" 2>&1; then
    echo "    FAILED; last lines of $out/pxt.log:" >&2
    tail -n 15 "$log" | sed 's/^/    | /' >&2
    failed+=("$name")
    continue
  fi

  # mbdal = micro:bit DAL (v1, nRF51), mbcodal = CODAL (v2, nRF52833), binary = universal hex.
  cp "$work/built/mbdal-binary.hex" "$out/v1.hex"
  cp "$work/built/mbcodal-binary.hex" "$out/v2.hex"
  cp "$work/built/binary.hex" "$out/universal.hex"
  head -n 2 "$out/universal.hex" | grep -q '^:0400000A990[01]C0DE' ||
    die "$out/universal.hex does not start with a v1 universal-hex block"
  echo "$inputs_sum" >"$out/.inputs"
  sizes="$(for f in v1 v2 universal; do printf '%s %s KiB, ' "$f" $(($(stat -c %s "$out/$f.hex") / 1024)); done)"
  echo "    done in $(elapsed "$t0"): ${sizes%, }"
done

if [ "${#failed[@]}" -gt 0 ]; then
  die "failed to build: ${failed[*]}"
fi
echo "==> hex files are in $here/build/"
