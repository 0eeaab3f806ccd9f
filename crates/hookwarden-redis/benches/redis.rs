//! RedisStore throughput.
fn main() {}
