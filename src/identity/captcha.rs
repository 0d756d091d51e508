//! Image captchas (CONTRACT §4): 5 characters without look-alikes drawn as a PNG, checked
//! by `md5(lowercase(code) + rand)`, valid 180 s, single use.

use base64::Engine;
use rusqlite::{params, Connection};

use super::tokens::{md5_hex, random_alphanumeric};
use crate::clock::now;

pub const VALID_SECS: i64 = 180;

macro_rules! glyphs {
    ($($c:literal),*) => {
        &[$(($c, include_bytes!(concat!("../../assets/captcha/", $c, ".png")))),*]
    };
}

/// The characters a captcha draws, each with its picture (black on white, about 40 by 40;
/// `assets/captcha/`). No 0/O/o, 1/I/l/i, 2/Z, 5/S: a person should never have to guess.
const GLYPHS: &[(char, &[u8])] = glyphs!(
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'M', 'N', 'P', 'Q', 'R', 'T', 'U', 'V', 'W', 'X', 'Y', '3', '4',
    '6', '7', '8', '9'
);

/// Characters per captcha.
const LENGTH: usize = 5;
const WIDTH: u32 = 200;
const HEIGHT: u32 = 70;
/// The share of pixels turned black over the characters.
const NOISE: f32 = 0.2;

pub struct ImageCaptcha {
    pub rand: String,
    pub code: String,
    pub png: Vec<u8>,
}

impl ImageCaptcha {
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.png)
    }
}

/// Draws a captcha: the characters side by side, centred in the picture, under noise.
/// Decoding and encoding pictures is CPU work: callers run this on a blocking thread.
pub fn draw() -> Option<ImageCaptcha> {
    use image::{GrayImage, ImageFormat, Luma};
    use rand::seq::SliceRandom;
    use rand::Rng;

    let mut rng = rand::thread_rng();
    let drawn: Vec<(char, GrayImage)> = (0..LENGTH)
        .map(|_| {
            let (c, png) = GLYPHS.choose(&mut rng)?;
            Some((*c, image::load_from_memory_with_format(png, ImageFormat::Png).ok()?.to_luma8()))
        })
        .collect::<Option<_>>()?;
    let width: u32 = drawn.iter().map(|(_, g)| g.width()).sum::<u32>().max(WIDTH);
    let height: u32 = drawn.iter().map(|(_, g)| g.height()).max()?.max(HEIGHT);
    let mut canvas = GrayImage::from_pixel(width, height, Luma([255]));
    let text: u32 = drawn.iter().map(|(_, g)| g.width()).sum();
    let mut x = (width - text) / 2;
    for (_, glyph) in &drawn {
        image::imageops::replace(&mut canvas, glyph, i64::from(x), i64::from((height - glyph.height()) / 2));
        x += glyph.width();
    }
    for pixel in canvas.pixels_mut() {
        if rng.gen::<f32>() < NOISE {
            *pixel = Luma([0]);
        }
    }
    let view = image::imageops::crop_imm(&canvas, (width - WIDTH) / 2, (height - HEIGHT) / 2, WIDTH, HEIGHT).to_image();
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(view).to_rgb8().write_to(&mut png, ImageFormat::Png).ok()?;
    let code: String = drawn.iter().map(|(c, _)| c.to_ascii_lowercase()).collect();
    Some(ImageCaptcha { rand: random_alphanumeric(5), code, png: png.into_inner() })
}

pub fn store(conn: &Connection, captcha: &ImageCaptcha) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM captcha WHERE expires_at <= ?1", [now()])?;
    conn.execute(
        "INSERT INTO captcha (rand, code, expires_at) VALUES (?1, ?2, ?3)",
        params![captcha.rand, captcha.code, now() + VALID_SECS],
    )?;
    Ok(())
}

/// True when `hash` answers a live captcha; that captcha is then used up. The document's
/// check sends only the hash, so the live captchas are searched for it.
pub fn check(conn: &Connection, hash: &str) -> rusqlite::Result<bool> {
    let hash = hash.trim().to_ascii_lowercase();
    let mut stmt = conn.prepare_cached("SELECT rand, code FROM captcha WHERE expires_at > ?1")?;
    let live: Vec<(String, String)> =
        stmt.query_map([now()], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    match live.into_iter().find(|(rand, code)| md5_hex(&format!("{code}{rand}")) == hash) {
        Some((rand, _)) => {
            conn.execute("DELETE FROM captcha WHERE rand = ?1", [rand])?;
            Ok(true)
        }
        None => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captcha_is_a_png_of_its_code_from_the_unambiguous_characters() {
        let drawn = draw().expect("a captcha");
        let picture = image::load_from_memory(&drawn.png).expect("a PNG");
        assert_eq!((picture.width(), picture.height()), (WIDTH, HEIGHT));
        assert_eq!(drawn.code.chars().count(), LENGTH);
        let allowed: String = GLYPHS.iter().map(|(c, _)| c.to_ascii_lowercase()).collect();
        assert!(drawn.code.chars().all(|c| allowed.contains(c)), "{}", drawn.code);
        // Characters are drawn: far more dark pixels than the noise alone leaves.
        let dark = picture.to_luma8().pixels().filter(|p| p.0[0] < 128).count() as f32;
        assert!(dark > (WIDTH * HEIGHT) as f32 * (NOISE + 0.03), "{dark} dark pixels");
    }
}
