//! The JPEG walk (`jpeg.rs`, `entropy.rs`): real files of every common sampling are
//! proved whole without a decode, broken ones refused, and the rest left to the decoder.

use std::io::Cursor;

use image::ImageFormat;

use super::entropy::CODE_BY_CODE;
use super::{pixels, structure, verify, Refused};

fn encoded(picture: impl Into<image::DynamicImage>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    picture.into().write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// Noise, so that blocks have many coefficients (long codes, stuffed bytes).
fn colour(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x9E37_79B9u32;
    encoded(image::RgbImage::from_fn(width, height, |x, y| {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        image::Rgb([(x * 7) as u8 ^ (seed >> 24) as u8, (y * 3) as u8, (seed >> 16) as u8])
    }))
}

fn grey(width: u32, height: u32) -> Vec<u8> {
    encoded(image::GrayImage::from_fn(width, height, |x, y| image::Luma([(x * 13 + y * y) as u8])))
}

/// Proved whole by the walk alone, and the decoder agrees.
fn walked(bytes: &[u8], what: &str) {
    assert_eq!(structure(bytes), Ok((ImageFormat::Jpeg, true)), "{what}");
    assert_eq!(verify(bytes), Ok(ImageFormat::Jpeg), "{what}");
    assert!(pixels(bytes, ImageFormat::Jpeg).is_ok(), "{what} decodes too");
}

fn refused(bytes: &[u8]) -> String {
    match verify(bytes) {
        Err(Refused::Undecodable(why)) => why,
        other => panic!("accepted or misread: {other:?}"),
    }
}

/// Where the first scan's entropy-coded data starts.
fn scan_data(bytes: &[u8]) -> usize {
    let sos = bytes.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    sos + 2 + u16::from_be_bytes([bytes[sos + 2], bytes[sos + 3]]) as usize
}

#[test]
fn image_crate_jpegs_of_many_sizes_are_walked_whole() {
    for (width, height) in [(1, 1), (7, 9), (8, 8), (16, 16), (17, 31), (33, 17), (300, 200), (641, 479)] {
        walked(&colour(width, height), &format!("4:4:4 {width}×{height}"));
        walked(&grey(width, height), &format!("grey {width}×{height}"));
    }
}

#[test]
fn other_samplings_and_restart_intervals_are_walked_whole() {
    for (name, bytes) in [
        ("4:2:0", &include_bytes!("testdata/420.jpg")[..]),
        ("4:2:2, restarts", include_bytes!("testdata/422-restart.jpg")),
        ("4:2:0, own tables, restarts", include_bytes!("testdata/420-optimized-restart.jpg")),
        ("grey, restarts", include_bytes!("testdata/grey-restart.jpg")),
        ("grey 2×2, restarts", include_bytes!("testdata/grey-2x2-restart.jpg")),
    ] {
        walked(bytes, name);
    }
}

#[test]
fn progressive_and_multi_scan_jpegs_are_left_to_the_decoder() {
    for bytes in [&include_bytes!("testdata/progressive.jpg")[..], include_bytes!("testdata/three-scans.jpg")] {
        assert_eq!(structure(bytes), Ok((ImageFormat::Jpeg, false)));
        assert_eq!(verify(bytes), Ok(ImageFormat::Jpeg));
    }
}

#[test]
fn a_scan_cut_short_is_refused_even_with_its_end_marker() {
    let picture = colour(120, 90);
    let start = scan_data(&picture);
    for cut in [start + 1, start + 100, (start + picture.len()) / 2, picture.len() - 40] {
        let mut short = picture[..cut].to_vec();
        short.extend_from_slice(&[0xFF, 0xD9]);
        assert!(refused(&short).contains("cut short"), "cut at {cut}");
    }
    // Without the end marker as well.
    assert!(refused(&picture[..picture.len() - 2]).contains("cut short"));
    assert!(refused(&picture[..picture.len() - 1]).contains("cut short"));
    // A frame claiming more rows than the data codes.
    let mut taller = picture.clone();
    let sof = taller.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    taller[sof + 5..sof + 7].copy_from_slice(&200u16.to_be_bytes());
    assert!(refused(&taller).contains("cut short"));
}

#[test]
fn a_code_no_table_has_is_refused() {
    // Nine ones are no code of the standard luminance DC table (its longest is 111111110).
    let mut picture = colour(64, 48);
    let start = scan_data(&picture);
    picture.splice(start..start + 2, [0xFF, 0x00, 0xFF, 0x00]);
    assert!(refused(&picture).contains("Huffman code"));
    // The same in a file with tables of its own, past its first restart marker.
    let mut optimized = include_bytes!("testdata/420-optimized-restart.jpg").to_vec();
    let rst = optimized.windows(2).position(|w| w == [0xFF, 0xD0]).unwrap();
    optimized.splice(rst + 2..rst + 4, [0xFF, 0x00, 0xFF, 0x00]);
    assert!(verify(&optimized).is_err());
}

#[test]
fn markers_out_of_place_are_refused() {
    let restarts = include_bytes!("testdata/422-restart.jpg");
    let rst1 = restarts.windows(2).position(|w| w == [0xFF, 0xD1]).unwrap();
    let mut skipped = restarts.to_vec();
    skipped[rst1 + 1] = 0xD3;
    assert!(refused(&skipped).contains("out of order"));
    // A restart marker where the file has no restart interval.
    let mut picture = colour(64, 48);
    let start = scan_data(&picture);
    picture.splice(start + 50..start + 50, [0xFF, 0xD0]);
    assert!(verify(&picture).is_err());
    // Something else where the end of image belongs.
    let mut no_end = colour(32, 32);
    *no_end.last_mut().unwrap() = 0xD8;
    assert!(refused(&no_end).contains("out of place"));
}

#[test]
fn a_canvas_past_the_limit_is_refused_before_its_scan_is_walked() {
    let mut wide = grey(64, 48);
    let sof = wide.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    wide[sof + 7..sof + 9].copy_from_slice(&13_000u16.to_be_bytes());
    assert!(refused(&wide).contains("larger than"));
}

#[test]
fn data_left_over_after_the_last_block_goes_to_the_decoder() {
    // A frame claiming fewer rows than the data codes: legal enough for a decoder, which
    // then has the last word.
    let mut shorter = colour(64, 48);
    let sof = shorter.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    shorter[sof + 5..sof + 7].copy_from_slice(&16u16.to_be_bytes());
    assert_eq!(structure(&shorter), Ok((ImageFormat::Jpeg, false)));
}

/// The walk takes runs of AC codes in one look-up, and reads one code at a time only where
/// a block could fill up or overflow, or the data end, within a run. On scans broken in
/// every way a flipped bit, a changed, cut or inserted byte can break them, it must reach
/// exactly the verdicts of reading one code at a time, as the standard does.
#[test]
fn runs_of_codes_reach_the_verdicts_of_one_code_at_a_time() {
    let bases = [
        colour(96, 64),
        grey(61, 37),
        include_bytes!("testdata/420-optimized-restart.jpg").to_vec(),
        include_bytes!("testdata/422-restart.jpg").to_vec(),
    ];
    let mut seed = 7u64;
    let mut below = |n: usize| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % n
    };
    let (mut whole, mut refused) = (0, 0);
    for round in 0..1200 {
        let mut bytes = bases[round % bases.len()].clone();
        let start = scan_data(&bytes);
        let at = start + below(bytes.len() - start);
        match round / bases.len() % 4 {
            0 => bytes[at] ^= 1 << below(8),
            1 => bytes[at] = below(256) as u8,
            2 => bytes.truncate(at),
            _ => bytes.insert(at, below(256) as u8),
        }
        let by_runs = structure(&bytes);
        CODE_BY_CODE.set(true);
        let code_by_code = structure(&bytes);
        CODE_BY_CODE.set(false);
        assert_eq!(by_runs, code_by_code, "round {round}, byte {at}");
        match by_runs {
            Ok((_, true)) => whole += 1,
            Err(_) => refused += 1,
            Ok(_) => {}
        }
    }
    assert!(whole > 100 && refused > 300, "{whole} whole, {refused} refused: the changes must reach both verdicts");
}
