//! Thumbnails: a 256 px JPEG of a stored image, with its size and dominant colour.
//!
//! Only PNG, JPEG and WebP are decoded (the only codecs compiled in), within limits on size and
//! memory, so a huge or hostile object cannot exhaust the function.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{ImageReader, Limits, RgbImage};

/// The longest side of a thumbnail.
pub const THUMBNAIL_SIDE: u32 = 256;
const JPEG_QUALITY: u8 = 82;
const MAX_SIDE: u32 = 8192;
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// A thumbnail and what it tells about the original.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    /// Of the original image.
    pub width: u32,
    pub height: u32,
    /// `#rrggbb`: the most common colour, for placeholders while the image loads.
    pub dominant_color: String,
}

#[derive(Debug, thiserror::Error)]
#[error("not an image the processor can read: {0}")]
pub struct Unreadable(String);

/// The thumbnail of an encoded PNG, JPEG or WebP image.
pub fn make(encoded: &[u8]) -> Result<Thumbnail, Unreadable> {
    let mut reader = ImageReader::new(Cursor::new(encoded))
        .with_guessed_format()
        .map_err(|e| Unreadable(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| Unreadable(e.to_string()))?;

    // Never larger than the original: a small picture is its own thumbnail.
    let small = if image.width() <= THUMBNAIL_SIDE && image.height() <= THUMBNAIL_SIDE {
        image.to_rgb8()
    } else {
        image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8()
    };
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, JPEG_QUALITY)
        .encode_image(&small)
        .map_err(|e| Unreadable(e.to_string()))?;
    Ok(Thumbnail {
        jpeg,
        width: image.width(),
        height: image.height(),
        dominant_color: dominant_color(&small),
    })
}

/// The average of the most populated colour bucket (4 bits per channel), as `#rrggbb`.
pub fn dominant_color(image: &RgbImage) -> String {
    // 4,096 buckets, counted in place: a hash map per pixel was most of this function's time.
    let mut buckets = vec![(0u32, [0u64; 3]); 1 << 12];
    for pixel in image.pixels() {
        let [r, g, b] = pixel.0;
        let bucket = (usize::from(r >> 4) << 8) | (usize::from(g >> 4) << 4) | usize::from(b >> 4);
        let entry = &mut buckets[bucket];
        entry.0 += 1;
        for (sum, value) in entry.1.iter_mut().zip([r, g, b]) {
            *sum += u64::from(value);
        }
    }
    // Ties go to the lower bucket: `max_by_key` keeps the last maximum, so walk them downwards.
    let Some((count, sums)) = buckets
        .into_iter()
        .rev()
        .filter(|(count, _)| *count > 0)
        .max_by_key(|(count, _)| *count)
    else {
        return "#000000".to_owned();
    };
    let channel = |sum: u64| sum / u64::from(count);
    format!(
        "#{:02x}{:02x}{:02x}",
        channel(sums[0]),
        channel(sums[1]),
        channel(sums[2])
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb};

    fn encode(image: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Vec::new();
        image.write_to(&mut Cursor::new(&mut out), format).unwrap();
        out
    }

    #[test]
    fn a_wide_png_becomes_a_256px_jpeg_keeping_its_shape() {
        let image = RgbImage::from_pixel(1024, 512, Rgb([10, 200, 30]));
        let thumbnail = make(&encode(&image, ImageFormat::Png)).unwrap();

        assert_eq!((thumbnail.width, thumbnail.height), (1024, 512));
        let decoded =
            image::load_from_memory_with_format(&thumbnail.jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (256, 128));
    }

    #[test]
    fn a_small_picture_keeps_its_size() {
        let image = RgbImage::from_pixel(32, 48, Rgb([200, 80, 40]));
        let thumbnail = make(&encode(&image, ImageFormat::Png)).unwrap();
        let decoded = image::load_from_memory(&thumbnail.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (32, 48));
    }

    #[test]
    fn jpeg_input_is_read_too() {
        let image = RgbImage::from_pixel(300, 600, Rgb([200, 100, 50]));
        let thumbnail = make(&encode(&image, ImageFormat::Jpeg)).unwrap();
        let decoded = image::load_from_memory(&thumbnail.jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (128, 256));
    }

    #[test]
    fn the_dominant_colour_is_the_most_common_one() {
        let image = RgbImage::from_fn(100, 100, |x, _| {
            if x < 70 {
                Rgb([250, 10, 10])
            } else {
                Rgb([10, 10, 250])
            }
        });
        assert_eq!(dominant_color(&image), "#fa0a0a");
    }

    #[test]
    fn a_tie_goes_to_the_same_colour_every_time() {
        let halves = |left: Rgb<u8>, right: Rgb<u8>| {
            RgbImage::from_fn(10, 10, move |x, _| if x < 5 { left } else { right })
        };
        let (red, green) = (Rgb([250, 10, 10]), Rgb([10, 250, 10]));
        assert_eq!(dominant_color(&halves(red, green)), "#0afa0a");
        assert_eq!(dominant_color(&halves(green, red)), "#0afa0a");
    }

    #[test]
    fn garbage_and_truncated_images_are_unreadable() {
        assert!(make(b"this is not an image").is_err());
        let png = encode(
            &RgbImage::from_pixel(64, 64, Rgb([1, 2, 3])),
            ImageFormat::Png,
        );
        assert!(make(&png[..png.len() / 2]).is_err());
    }
}
