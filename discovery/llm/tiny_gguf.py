"""Write a tiny random llama model in GGUF, for testing the LLM path against a real server.

The model has random float32 weights (no quantization), a SentencePiece-style
vocabulary of control tokens, the 256 byte-fallback tokens ``<0x00>``..``<0xFF>``
(without them llama.cpp crashes on characters it cannot tokenize) and a few
hundred word pieces, and a ChatML chat template. Its output is noise, but under
a JSON-schema grammar with ``pattern``-constrained strings it is always valid
JSON, which is what the tests need: schema-valid output, caching, concurrency,
retries, and evidence checks that reject invented sentences.

Requires the ``gguf`` package (extra ``llm-server``).

Examples
--------
>>> write_tiny_llama("tiny.gguf", seed=0)        # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

_PIECES = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;()[]{}\"'-+/") + [
    "\u2581the", "\u2581of", "\u2581and", "\u2581in", "\u2581to", "\u2581with", "\u2581a", "\u2581was", "\u2581induced",
    "\u2581patients", "\u2581drug", "\u2581disease", "\u2581chemical", "\u2581evidence", "\u2581relations",
    "ing", "ed", "ion", "ine", "ia", "\u2581",
]


def write_tiny_llama(path: str | os.PathLike, *, seed: int = 0, n_embd: int = 64, n_layer: int = 2,
                     n_head: int = 4, n_ff: int = 128, n_ctx: int = 4096) -> Path:
    """Write the model; returns its path. Same seed -> same bytes.

    Parameters
    ----------
    path : path-like
        Output ``.gguf`` file.
    seed : int
        Seed of the random weights.
    n_embd, n_layer, n_head, n_ff, n_ctx : int
        Width, depth, attention heads, feed-forward width, training context length.
    """
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    tokens: list[str] = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL,
             gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(gguf.TokenType.BYTE)
    seen = set(tokens)
    for p in _PIECES:
        p = p.replace(" ", "\u2581")
        if p not in seen:
            seen.add(p)
            tokens.append(p)
            types.append(gguf.TokenType.NORMAL)
    scores = [0.0] * 5 + [-1000.0] * 256 + [-float(i) for i in range(len(tokens) - 261)]
    n_vocab = len(tokens)
    head_dim = n_embd // n_head

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(p), "llama")
    w.add_name("discovery-tiny-random-llama")
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(4)  # <|im_end|> ends a ChatML turn
    w.add_unk_token_id(0)
    w.add_add_bos_token(False)
    w.add_chat_template(CHATML)

    def t(name: str, *shape: int, scale: float = 0.02) -> None:
        w.add_tensor(name, (rng.standard_normal(shape) * scale).astype(np.float32))

    def ones(name: str, n: int) -> None:
        w.add_tensor(name, np.ones(n, dtype=np.float32))

    t("token_embd.weight", n_vocab, n_embd, scale=1.0)
    for i in range(n_layer):
        ones(f"blk.{i}.attn_norm.weight", n_embd)
        t(f"blk.{i}.attn_q.weight", n_embd, n_embd)
        t(f"blk.{i}.attn_k.weight", n_embd, n_embd)
        t(f"blk.{i}.attn_v.weight", n_embd, n_embd)
        t(f"blk.{i}.attn_output.weight", n_embd, n_embd)
        ones(f"blk.{i}.ffn_norm.weight", n_embd)
        t(f"blk.{i}.ffn_gate.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_up.weight", n_ff, n_embd)
        t(f"blk.{i}.ffn_down.weight", n_embd, n_ff)
    ones("output_norm.weight", n_embd)
    t("output.weight", n_vocab, n_embd, scale=1.0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return p


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(write_tiny_llama(sys.argv[1] if len(sys.argv) > 1 else "tiny-llama.gguf"))
