//! Integration tests of the worker: the whole pipeline against DynamoDB and S3 in the local
//! emulator, a fake OpenAI server and a fake Management API on 127.0.0.1.

mod failures;
mod flow;
mod support;

/// The Lambda runtime and the local gateway run the handler on a multi-threaded runtime, so its
/// future must be `Send`; a tracing span guard (`span.enter()`) held across an `.await` is not,
/// and logs from other tasks would be attributed to the job.
#[test]
fn the_handler_future_may_move_between_threads() {
    fn send<T: Send>(_: T) {}
    fn check(deps: &worker::Deps, event: mumble_core::generation::WorkerEvent) {
        send(worker::handle(deps, event));
    }
    let _compiles: fn(&worker::Deps, mumble_core::generation::WorkerEvent) = check;
}
