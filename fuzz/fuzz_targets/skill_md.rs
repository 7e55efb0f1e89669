//! Any text as SKILL.md: the parser never panics; what it accepts obeys the agentskills.io rules,
//! its body is the text's tail, the folder rule holds, and nothing appended to the body can replace
//! the frontmatter.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::skill_md(data));
