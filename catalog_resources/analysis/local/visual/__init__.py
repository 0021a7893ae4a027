"""Offline visual analysis of a scene: ImageNet labels rolled up to general terms, people, light, camera motion.

One concern per module: classifier (the packaged EfficientNet-Lite0 through onnxruntime), imagenet (the class
table), wordnet + terms (general terms from WordNet hypernyms), labels, people, light, motion, and segment,
which puts them together into a VisualSegment with the text search indexes.
"""

from catalog_resources.analysis.local.visual.classifier import FrameClassifier, VisualModelError
from catalog_resources.analysis.local.visual.segment import describe_scene, scene_text

__all__ = ["FrameClassifier", "VisualModelError", "describe_scene", "scene_text"]
