"""speakers: who speaks when in each clip, and the same voice across the catalog.

Works on the 16 kHz mono WAV the proxy step already wrote (no second decode): the Silero VAD the transcript
uses finds speech, Resemblyzer's voice encoder (speakers/encoder.py) makes a vector per 1.6 s window, and
speakers/diarize.py turns those into speakers and turns. The IO manager's writer stores the turns as
speaker_change segments and gives each voice a person (store/speakers.py), next to faces in one people model.
Runs after faces so a voice can be linked to the one face on screen while it speaks.
Voice data is personal data: `--disable speakers` skips the step, VIDEO_CATALOG_SPEAKERS=0 turns it off
everywhere (a run then stores no voice data for its clips and removes what was there).
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, Output

from catalog_assets.metadata import clip_output
from catalog_assets.partitions import clip_asset
from catalog_resources.analysis.local.audio import read_pcm16k
from catalog_resources.errors import MediaError
from catalog_resources.models.media import DerivedMedia
from catalog_resources.models.speakers import SpeakerSet
from catalog_resources.resources.media import ClipPool
from catalog_resources.settings import load_settings
from catalog_resources.speakers.diarize import diarize
from catalog_resources.speakers.encoder import MODEL_NAME, VoiceEncoder, VoiceModelError
from catalog_resources.work.cpu import StepClock

CODE_VERSION = f"1+{MODEL_NAME}"


def _clip_metadata(speakers: SpeakerSet) -> dict[str, object]:
    return {
        "enabled": speakers.enabled,
        "speakers": len(speakers.tracks),
        "turns": len(speakers.turns),
        "speech_seconds": speakers.speech_seconds,
        "cpu_seconds": speakers.cpu_seconds,
        "preview": " ".join(f"{t.label} {t.start_seconds:.1f}-{t.end_seconds:.1f}" for t in speakers.turns[:8]),
    }


def _samples(clip_id: str, media: DerivedMedia | None):
    """The proxy step's speech WAV as samples; None when the clip has no audio."""
    if media is None or not media.audio_path:
        return None
    path = Path(media.audio_path)
    if not path.is_file():
        raise MediaError(f"clip {clip_id}: its speech audio {path} is missing; run: video-catalog refresh --missing proxy")
    try:
        return read_pcm16k(path, sample_format="s16")
    except (OSError, ValueError) as exc:
        raise MediaError(f"clip {clip_id}: cannot read its speech audio {path}: {exc}") from exc


@clip_asset(code_version=CODE_VERSION, group_name="analysis", kinds={"python"}, deps=[AssetKey("faces")])
def speakers(context: AssetExecutionContext, proxy: dict[str, DerivedMedia],
             clip_pool: ClipPool) -> Output[dict[str, SpeakerSet]]:
    """Speaker turns per clip (S1, S2... in order of first words, turn times in seconds) from the proxy's 16 kHz
    audio: Silero VAD, Resemblyzer voice vectors over 1.6 s windows, clustered within the clip; each voice joins
    the person with the nearest voice across the catalog, or the one face on screen while it speaks, or a new
    person. Off with VIDEO_CATALOG_SPEAKERS=0."""
    started = StepClock.start()
    settings = load_settings()
    enabled, encoder = settings.speakers, VoiceEncoder(settings.models_dir)

    def diarize_clip(clip_id: str) -> SpeakerSet:
        if not enabled:
            return SpeakerSet(clip_id=clip_id, enabled=False, model=MODEL_NAME)
        try:
            return diarize(_samples(clip_id, proxy[clip_id]), clip_id, encoder)
        except VoiceModelError as exc:  # a missing package fails every clip the same way: no retry
            raise Failure(description=f"speakers of clip {clip_id}: {exc}", allow_retries=False) from exc

    results = clip_pool.map(diarize_clip, list(proxy))
    return clip_output(
        context, results, _clip_metadata, started=started,
        totals={"speakers": sum(len(r.tracks) for r in results.values()),
                "speech_seconds": round(sum(r.speech_seconds for r in results.values()), 2)},
    )
