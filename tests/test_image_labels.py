"""The optional image-text model path: a tiny randomly initialised CLIP that this test builds and saves,
so the loading and labelling code is real without any model download."""

import json
import os

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers", reason="the image model path needs transformers (test extra)")

from catalog_resources.analysis.local.image_labels import FOCAL_PROMPTS, SCENE_LABELS, ImageLabeler, ImageModelError  # noqa: E402
from catalog_resources.analysis.local.pipeline import AnalysisInputs, LocalPipeline  # noqa: E402


def byte_level_alphabet() -> list[str]:
    """GPT-2/CLIP byte-to-unicode table: every byte a printable character."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    chars, n = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + n)
            n += 1
    return [chr(c) for c in chars]


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

    folder = tmp_path_factory.mktemp("tiny-clip")
    alphabet = byte_level_alphabet()
    vocab = {tok: i for i, tok in enumerate(alphabet + [c + "</w>" for c in alphabet])}
    vocab["<|startoftext|>"], vocab["<|endoftext|>"] = len(vocab), len(vocab) + 1
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    processor = CLIPProcessor(image_processor=CLIPImageProcessor(size={"shortest_edge": 32},
                                                                 crop_size={"height": 32, "width": 32}),
                              tokenizer=tokenizer)
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={"vocab_size": len(vocab), "hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 1,
                     "num_attention_heads": 2, "max_position_embeddings": 77, "projection_dim": 16,
                     "bos_token_id": vocab["<|startoftext|>"], "eos_token_id": vocab["<|endoftext|>"],
                     "pad_token_id": vocab["<|endoftext|>"]},
        vision_config={"image_size": 32, "patch_size": 16, "hidden_size": 32, "intermediate_size": 37,
                       "num_hidden_layers": 1, "num_attention_heads": 2, "projection_dim": 16},
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    folder = tmp_path_factory.mktemp("frames")
    paths = []
    for i, colour in enumerate(((200, 40, 40), (30, 160, 60), (20, 20, 220))):
        path = folder / f"f{i}.jpg"
        Image.fromarray(np.full((90, 160, 3), colour, np.uint8)).save(path)
        paths.append(path)
    return paths


def test_labels_from_a_saved_model_loaded_offline(tiny_clip, frames):
    found = ImageLabeler(tiny_clip, top=3, min_probability=0.0).label(frames)
    assert found.frames == 3 and len(found.labels) == 3
    assert {label for label, _p in found.labels} <= set(SCENE_LABELS)
    probabilities = [p for _l, p in found.labels]
    assert probabilities == sorted(probabilities, reverse=True) and all(0 < p < 1 for p in probabilities)
    assert found.focal_length_category in FOCAL_PROMPTS and 1 / 3 - 0.2 < found.focal_probability < 1
    again = ImageLabeler(tiny_clip, top=3, min_probability=0.0).label(frames)  # same weights, same answer
    assert (again.labels, again.focal_probability) == (found.labels, found.focal_probability)


def test_labels_reach_the_analysis(tiny_clip, frames, tmp_path):
    analyzer = LocalPipeline(tmp_path, ocr_frames=0, image_model_path=tiny_clip, image_min_probability=0.0)
    inputs = AnalysisInputs(clip_id="c", duration=3.0, frames=[(float(i), str(p)) for i, p in enumerate(frames)])
    result = analyzer.analyze(inputs, code_version="test")
    assert set(result.summary.scene_classification) & set(SCENE_LABELS)
    assert result.model.endswith("+" + tiny_clip.name) and "image_labels" in result.timings


def test_a_folder_without_a_model_is_a_clear_error(tmp_path, frames):
    with pytest.raises(ImageModelError, match="no config.json.*VIDEO_CATALOG_IMAGE_MODEL_PATH"):
        ImageLabeler(tmp_path).label(frames)
