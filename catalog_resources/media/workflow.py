"""Which device or software wrote a file, guessed from its encoder, handler, make, model and brand strings."""

from __future__ import annotations


def fingerprint_workflow(
    ext: str, brand: str | None, compat: list[str], texts: dict[str, str]
) -> tuple[str | None, list[str]]:
    """Guess the device or software family that wrote the file, with the evidence that decided it.

    `texts` holds named strings (encoder, handler names, make, model, software, writing library).
    """
    haystack = " | ".join(f"{k}={v}" for k, v in texts.items() if v)
    lower = haystack.lower()
    brands = {(brand or "").strip().lower(), *(c.strip().lower() for c in compat)}

    def found(*needles: str) -> list[str]:
        return [f"{k}={v}" for k, v in texts.items() if v and any(n in str(v).lower() for n in needles)]

    rules: list[tuple[str, list[str]]] = [
        ("Adobe Premiere export", found("premiere", "adobe media encoder")),
        ("DaVinci Resolve export", found("davinci", "resolve")),
        ("Final Cut Pro export", found("final cut", "apple proapps", "compressor")),
        ("OBS recording", found("obs ", "obs-output", "obs studio")),
        ("Screen recording", found("screencapturekit", "screen record", "replaykit")),
        ("iPhone", found("iphone") or (found("apple") and found("ios"))),
        ("GoPro", found("gopro", "gpmf")),
        ("DJI", found("dji")),
        ("Android phone", found("android", "samsung", "pixel ", "xiaomi", "oneplus")),
        ("Sony XAVC", found("sony") + ([f"brand={b}"] if (b := next((x for x in brands if "xavc" in x), None)) else [])),
        ("Canon", found("canon")),
        ("Panasonic", found("panasonic", "lumix")),
        ("Blackmagic camera", found("blackmagic")),
        ("RED camera", [f"extension={ext}"] if ext == "r3d" else found("red digital")),
        ("Apple device", found("core media", "apple")),
    ]
    for name, evidence in rules:
        if evidence:
            return name, evidence
    if ext in ("mts", "m2ts") and "avchd" not in lower:
        return "AVCHD camcorder", [f"extension={ext}"]
    lavf = found("lavf", "lavc", "libx264", "libx265", "ffmpeg")
    if lavf:
        return "ffmpeg (libavformat)", lavf
    if brands & {"qt"}:
        return "QuickTime", ["brand=qt"]
    return None, []
