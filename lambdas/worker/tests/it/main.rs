//! Integration tests of the worker: the whole pipeline against DynamoDB and S3 in the local
//! emulator, a fake OpenAI server and a fake Management API on 127.0.0.1.

mod failures;
mod flow;
mod support;
