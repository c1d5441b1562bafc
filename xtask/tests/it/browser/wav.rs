//! The fake microphone's input: a few seconds of a speech-like signal as a 16-bit PCM WAV file.
//!
//! Chromium plays the file in a loop as the microphone (`--use-file-for-fake-audio-capture`).
//! A voiced sound whose pitch glides, cut into syllables, moves the level meter the way a voice
//! does; a steady tone would look like a stuck meter.

use std::f64::consts::TAU;

pub const SAMPLE_RATE: u32 = 48_000;

/// `seconds` of mono speech-like audio, as the bytes of a WAV file.
pub fn speech_like(seconds: f64) -> Vec<u8> {
    let count = (seconds * f64::from(SAMPLE_RATE)) as usize;
    let mut phase = 0.0_f64;
    let samples = (0..count).map(|index| {
        let t = index as f64 / f64::from(SAMPLE_RATE);
        // A pitch gliding between about 120 and 220 Hz, as a voice's does.
        let pitch = 170.0 + 50.0 * (TAU * 0.7 * t).sin();
        phase += TAU * pitch / f64::from(SAMPLE_RATE);
        // Harmonics make it a buzz rather than a whistle.
        let voiced = phase.sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (3.0 * phase).sin();
        // About four syllables a second, with short pauses between them.
        let syllable = (TAU * 2.0 * t).sin().abs().powf(0.6);
        let sample = 0.45 * voiced * syllable;
        (sample.clamp(-1.0, 1.0) * f64::from(i16::MAX)) as i16
    });
    pcm16_mono(SAMPLE_RATE, samples)
}

/// A RIFF/WAVE file holding 16-bit little-endian mono PCM samples.
fn pcm16_mono(sample_rate: u32, samples: impl Iterator<Item = i16>) -> Vec<u8> {
    let data: Vec<u8> = samples.flat_map(i16::to_le_bytes).collect();
    let data_len = u32::try_from(data.len()).expect("the recording fits in a WAV file");
    let block_align: u16 = 2;
    let mut wav = Vec::with_capacity(44 + data.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVE");
    wav.extend_from_slice(b"fmt ");
    wav.extend_from_slice(&16_u32.to_le_bytes());
    wav.extend_from_slice(&1_u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1_u16.to_le_bytes()); // mono
    wav.extend_from_slice(&sample_rate.to_le_bytes());
    wav.extend_from_slice(&(sample_rate * u32::from(block_align)).to_le_bytes());
    wav.extend_from_slice(&block_align.to_le_bytes());
    wav.extend_from_slice(&16_u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav.extend_from_slice(&data);
    wav
}

#[test]
fn the_fake_microphone_file_is_a_loud_enough_wav_of_the_asked_length() {
    let wav = speech_like(2.0);
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    assert_eq!(&wav[36..40], b"data");
    let data_len = u32::from_le_bytes(wav[40..44].try_into().unwrap()) as usize;
    assert_eq!(
        data_len,
        2 * SAMPLE_RATE as usize * 2,
        "two seconds of 16-bit mono"
    );
    assert_eq!(wav.len(), 44 + data_len);
    let peak = wav[44..]
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]).unsigned_abs())
        .max()
        .unwrap();
    assert!(
        peak > i16::MAX as u16 / 4,
        "the level meter needs a clearly audible signal, got a peak of {peak}"
    );
}
