//! The worker's generation pipeline (feature `pipeline`, which only the worker enables): the
//! providers (OpenAI, or offline stand-ins), the image prompt, retries, and the progress pushes.

pub mod offline;
pub mod openai;
pub mod prompt;
pub mod providers;
pub mod push;
pub mod retry;
