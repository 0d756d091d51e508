//! The fuzz targets' properties (`fuzz/properties/`), checked on every test run: each
//! target's seed corpus, then inputs mutated from it by a seeded generator. This is the short
//! fuzzing of every run; coverage-guided libFuzzer runs of the same properties, for as long
//! as one likes, are `scripts/fuzz.sh`. `HEARTH_FUZZ_INPUTS` sets the mutated inputs per
//! target (default 20 000) and `HEARTH_FUZZ_SEED` the generator's seed (default: a new one
//! each run, printed, so a failure can be replayed).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[path = "../../fuzz/properties/base64_image.rs"]
mod base64_image;
#[path = "../../fuzz/properties/care_envelope.rs"]
mod care_envelope;
#[path = "../../fuzz/properties/lenient_values.rs"]
mod lenient_values;
#[path = "../../fuzz/properties/transit_csv_line.rs"]
mod transit_csv_line;
#[path = "../../fuzz/properties/transit_time.rs"]
mod transit_time;

/// As long as the libFuzzer runs allow (`-max_len` in scripts/fuzz.sh).
const MAX_LEN: usize = 8192;

/// Bytes that tend to sit on the edges parsers decide on.
const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"\"",
    b",",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"=",
    b"/",
    b"-",
    b" ",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\0",
    b"2024-02-29",
    b"24:00:00",
];

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("a corpus file")).collect();
    assert!(!seeds.is_empty(), "{target} has seeds");
    seeds
}

/// One to four of the usual mutations: flip a bit, set a byte, insert or delete a run,
/// duplicate a run, splice in part of another seed, insert an interesting token.
fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.gen_range(0..seeds.len())].clone();
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=input.len());
        match rng.gen_range(0..7) {
            0 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !input.is_empty() => {
                let i = at.min(input.len() - 1);
                input[i] = rng.gen();
            }
            2 => {
                let run: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
                input.splice(at..at, run);
            }
            3 => {
                let end = (at + rng.gen_range(1..64)).min(input.len());
                input.drain(at..end);
            }
            4 => {
                let end = (at + rng.gen_range(1..64)).min(input.len());
                let run = input[at..end].to_vec();
                input.splice(at..at, run);
            }
            5 => {
                let other = &seeds[rng.gen_range(0..seeds.len())];
                let from = rng.gen_range(0..=other.len());
                let to = (from + rng.gen_range(1..256)).min(other.len());
                input.splice(at..at, other[from..to].iter().copied());
            }
            _ => {
                let token = INTERESTING[rng.gen_range(0..INTERESTING.len())];
                input.splice(at..at, token.iter().copied());
            }
        }
    }
    input.truncate(MAX_LEN);
    input
}

/// Runs the seeds, then the mutated inputs; the first input that breaks a property fails the
/// test with its bytes, written where `cargo fuzz run <target> <file>` can replay it.
fn fuzz(target: &str, check: fn(&[u8])) {
    let seeds = corpus(target);
    let inputs: usize = std::env::var("HEARTH_FUZZ_INPUTS").ok().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let seed: u64 = std::env::var("HEARTH_FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or_else(rand::random);
    println!("fuzz {target}: seed {seed}, {} seeds and {inputs} mutated inputs", seeds.len());
    let mut rng = StdRng::seed_from_u64(seed);
    let mutated = (0..inputs).map(|_| mutate(&mut rng, &seeds));
    for input in seeds.iter().cloned().chain(mutated) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(target);
            std::fs::create_dir_all(&folder).expect("a folder for the failing input");
            let file = folder.join(format!("seed-{seed}"));
            std::fs::write(&file, &input).expect("the failing input is kept");
            let why =
                panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{target} broke on {} (HEARTH_FUZZ_SEED={seed}): {}", file.display(), why.unwrap_or_default());
        }
    }
}

#[test]
fn base64_images_keep_their_properties() {
    fuzz("base64_image", base64_image::check);
}

#[test]
fn care_envelopes_keep_their_properties() {
    fuzz("care_envelope", care_envelope::check);
}

#[test]
fn lenient_values_keep_their_properties() {
    fuzz("lenient_values", lenient_values::check);
}

#[test]
fn transit_csv_files_keep_their_properties() {
    fuzz("transit_csv_line", transit_csv_line::check);
}

#[test]
fn transit_times_keep_their_properties() {
    fuzz("transit_time", transit_time::check);
}

#[test]
#[should_panic(expected = "transit_time broke on")]
fn a_broken_property_fails_the_run() {
    fuzz("transit_time", |input| assert!(input.len() < 12, "a long input"));
}
