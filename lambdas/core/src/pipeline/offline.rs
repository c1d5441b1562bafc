//! The offline provider pair, for local development and tests: no network, no key, no cost.
//!
//! The "transcription" is the transcript sent with the generation request; the "image" is a
//! landscape drawn from a hash of the prompt, so the same prompt always gives the same picture
//! and different prompts look different. Images carry [`ProviderKind::Offline`], which the worker
//! stores in the image record. Only `MUMBLE_PROVIDERS=offline` selects this pair.

use std::io::Cursor;

use async_trait::async_trait;
use image::{ImageFormat, Rgb, RgbImage};

use crate::pipeline::prompt::{MAX_TRANSCRIPT_CHARS, clean_text};
use crate::pipeline::providers::{
    GeneratedImage, ImageGenerator, ProviderError, ProviderKind, Transcriber, TranscriptionRequest,
};

/// Side of the square offline image: big enough to see in the gallery, cheap to draw.
pub const OFFLINE_IMAGE_SIDE: u32 = 512;

/// Returns the transcript supplied with the request.
#[derive(Debug, Clone, Copy, Default)]
pub struct SuppliedTranscript;

#[async_trait]
impl Transcriber for SuppliedTranscript {
    async fn transcribe(&self, request: TranscriptionRequest<'_>) -> Result<String, ProviderError> {
        let transcript = request
            .supplied_transcript
            .map(|t| clean_text(t, MAX_TRANSCRIPT_CHARS))
            .filter(|t| !t.is_empty());
        transcript.ok_or_else(|| {
            ProviderError::InvalidInput(
                "offline mode cannot listen to audio; send the words as `transcript` with the request"
                    .to_owned(),
            )
        })
    }
}

/// Draws a deterministic picture from the prompt.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderedImage;

#[async_trait]
impl ImageGenerator for RenderedImage {
    async fn generate(&self, prompt: &str) -> Result<GeneratedImage, ProviderError> {
        Ok(GeneratedImage {
            png: render_png(prompt),
            revised_prompt: None,
            provider: ProviderKind::Offline,
        })
    }
}

/// A sky gradient, a sun (or moon) and two rows of hills, all chosen by the prompt's hash.
pub fn render_png(prompt: &str) -> Vec<u8> {
    let seed = fnv1a(prompt.as_bytes());
    let byte = |i: u32| ((seed >> ((i % 8) * 8)) & 0xff) as u8;
    let side = OFFLINE_IMAGE_SIDE;

    let sky_top = Rgb([byte(0) / 2, byte(1) / 2, 96 + byte(2) / 2]);
    let sky_bottom = Rgb([128 + byte(3) / 2, 96 + byte(4) / 3, 96 + byte(5) / 3]);
    let far_hills = Rgb([byte(6) / 3, 64 + byte(7) / 3, 48 + byte(0) / 4]);
    let near_hills = Rgb([byte(1) / 5, 32 + byte(2) / 4, 24 + byte(3) / 5]);
    let sun = Rgb([255, 220 + byte(4) % 36, 120 + byte(5) / 2]);
    let sun_x = f64::from(side) * (0.2 + f64::from(byte(6)) / 255.0 * 0.6);
    let sun_y = f64::from(side) * (0.15 + f64::from(byte(7)) / 255.0 * 0.25);
    let sun_radius = f64::from(side) * (0.06 + f64::from(byte(0) % 32) / 1000.0);
    let phase_far = f64::from(byte(1)) / 40.0;
    let phase_near = f64::from(byte(2)) / 40.0;

    let image = RgbImage::from_fn(side, side, |x, y| {
        let (fx, fy) = (f64::from(x), f64::from(y));
        let height = f64::from(side);
        let far_line = height * 0.62 + (fx / 37.0 + phase_far).sin() * height * 0.05;
        let near_line = height * 0.78 + (fx / 23.0 + phase_near).sin() * height * 0.04;
        if fy > near_line {
            near_hills
        } else if fy > far_line {
            far_hills
        } else if (fx - sun_x).hypot(fy - sun_y) < sun_radius {
            sun
        } else {
            blend(sky_top, sky_bottom, fy / far_line)
        }
    });

    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .expect("encoding an in-memory RGB image as PNG cannot fail");
    png
}

fn blend(a: Rgb<u8>, b: Rgb<u8>, t: f64) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    let mix = |i: usize| (f64::from(a.0[i]) * (1.0 - t) + f64::from(b.0[i]) * t).round() as u8;
    Rgb([mix(0), mix(1), mix(2)])
}

/// FNV-1a: stable across platforms and Rust versions, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::providers::AudioClip;

    #[test]
    fn the_same_prompt_draws_the_same_picture() {
        assert_eq!(render_png("a rainy evening"), render_png("a rainy evening"));
        assert_ne!(render_png("a rainy evening"), render_png("a sunny morning"));
    }

    #[test]
    fn the_picture_is_a_square_png() {
        let png = render_png("mountains");
        let decoded = image::load_from_memory_with_format(&png, ImageFormat::Png).unwrap();
        assert_eq!(
            (decoded.width(), decoded.height()),
            (OFFLINE_IMAGE_SIDE, OFFLINE_IMAGE_SIDE)
        );
    }

    #[tokio::test]
    async fn the_supplied_transcript_is_the_transcription() {
        let audio = AudioClip {
            bytes: vec![1, 2, 3],
            file_name: "a.webm".into(),
            content_type: "audio/webm".into(),
        };
        let request = TranscriptionRequest {
            audio: &audio,
            language: "zh",
            supplied_transcript: Some("  下雨了\u{0} "),
        };
        assert_eq!(
            SuppliedTranscript.transcribe(request).await.unwrap(),
            "下雨了"
        );

        let without = TranscriptionRequest {
            supplied_transcript: None,
            ..request
        };
        let err = SuppliedTranscript.transcribe(without).await.unwrap_err();
        assert!(err.to_string().contains("transcript"), "{err}");
    }

    #[tokio::test]
    async fn offline_images_are_marked_offline() {
        let image = RenderedImage.generate("hills").await.unwrap();
        assert_eq!(image.provider, ProviderKind::Offline);
    }
}
