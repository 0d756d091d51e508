//! Draws the care surface's three stand-in portraits into assets/care/ (committed; the
//! server embeds them): default.jpg (no portrait yet), error.jpg (malformed user id) and
//! ban.jpg (embedded by another site). Deterministic: `cargo run --example care_images`.

use image::{ImageFormat, Rgb, RgbImage};

const SIDE: u32 = 256;

fn draw(background: [u8; 3], paint: impl Fn(f32, f32) -> Option<[u8; 3]>) -> RgbImage {
    RgbImage::from_fn(SIDE, SIDE, |x, y| {
        // Four samples per pixel smooth the edges.
        let mut sum = [0u32; 3];
        for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
            let colour = paint(x as f32 + dx, y as f32 + dy).unwrap_or(background);
            for i in 0..3 {
                sum[i] += colour[i] as u32;
            }
        }
        Rgb(sum.map(|s| (s / 4) as u8))
    })
}

fn within_ellipse(x: f32, y: f32, cx: f32, cy: f32, rx: f32, ry: f32) -> bool {
    ((x - cx) / rx).powi(2) + ((y - cy) / ry).powi(2) <= 1.0
}

fn distance_to_segment(x: f32, y: f32, (ax, ay): (f32, f32), (bx, by): (f32, f32)) -> f32 {
    let (vx, vy) = (bx - ax, by - ay);
    let t = (((x - ax) * vx + (y - ay) * vy) / (vx * vx + vy * vy)).clamp(0.0, 1.0);
    ((x - ax - t * vx).powi(2) + (y - ay - t * vy).powi(2)).sqrt()
}

/// A head and shoulders.
fn person(x: f32, y: f32, colour: [u8; 3]) -> Option<[u8; 3]> {
    let head = within_ellipse(x, y, 128.0, 100.0, 46.0, 50.0);
    let shoulders = within_ellipse(x, y, 128.0, 250.0, 96.0, 82.0);
    (head || shoulders).then_some(colour)
}

fn ring(x: f32, y: f32, radius: f32, width: f32) -> bool {
    let d = ((x - 128.0).powi(2) + (y - 128.0).powi(2)).sqrt();
    (d - radius).abs() <= width / 2.0
}

fn main() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/care");
    std::fs::create_dir_all(&out).unwrap();
    let red = [200, 40, 40];

    let default = draw([222, 228, 236], |x, y| person(x, y, [150, 163, 182]));

    let error = draw([252, 243, 214], |x, y| {
        let cross = distance_to_segment(x, y, (78.0, 78.0), (178.0, 178.0)) <= 12.0
            || distance_to_segment(x, y, (178.0, 78.0), (78.0, 178.0)) <= 12.0;
        (ring(x, y, 96.0, 18.0) || cross).then_some(red)
    });

    let ban = draw([245, 245, 245], |x, y| {
        let bar = distance_to_segment(x, y, (60.0, 60.0), (196.0, 196.0)) <= 10.0
            && ((x - 128.0).powi(2) + (y - 128.0).powi(2)).sqrt() <= 96.0;
        if ring(x, y, 96.0, 20.0) || bar {
            return Some(red);
        }
        // A small picture frame behind the sign: "pictures of this site".
        let frame = (70.0..=186.0).contains(&x) && (84.0..=172.0).contains(&y);
        let inner = (80.0..=176.0).contains(&x) && (94.0..=162.0).contains(&y);
        let hill = y >= 162.0 - (40.0 - (x - 118.0).abs()).max(0.0);
        match (frame, inner) {
            (true, false) => Some([120, 120, 120]),
            (true, true) if hill => Some([150, 180, 150]),
            _ => None,
        }
    });

    for (name, picture) in [("default.jpg", default), ("error.jpg", error), ("ban.jpg", ban)] {
        picture.save_with_format(out.join(name), ImageFormat::Jpeg).unwrap();
        println!("wrote assets/care/{name}");
    }
}
