"""The ffmpeg binary: one decode pass per clip makes the proxy, the speech audio and the analysis stream.

`split` fans the decoded frames out, so the clip is decoded once however many products it yields.
Outputs are written under temporary names (catalog_resources.files.atomic_path) and moved into place only
when ffmpeg succeeds: a failure leaves no half-written file, and its message names the clip and quotes
ffmpeg's last stderr lines.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from pydantic import BaseModel, Field

from catalog_resources.errors import MediaError, SetupError
from catalog_resources.files import atomic_path, write_atomic
from catalog_resources.models.media import DerivedMedia, ProxySettings

HARDWARE_ENCODERS = {
    "darwin": ["h264_videotoolbox"],
    "linux": ["h264_nvenc", "h264_vaapi", "h264_qsv"],
}
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
TONEMAP = (
    "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,"
    "zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
)


class FFmpegError(MediaError, RuntimeError):
    """ffmpeg failed; the message names the clip and quotes its last stderr lines."""


class FFmpegMissing(SetupError, FFmpegError):
    """The ffmpeg binary is not installed; the message says how to install it."""


class FFmpegTranscoder(BaseModel):
    """Runs the ffmpeg binary: picks a working encoder once, then one decode per clip for all its products."""

    binary: str = Field(default="ffmpeg")
    encoder: str = Field(default="auto", description="auto (hardware if a trial encode works, else libx264) or a name.")
    cache_dir: str = Field(default="", description="Where the encoder choice is remembered between runs.")
    proxy_fps: float = Field(default=5.0, gt=0, description="Proxy frame rate when a run does not set one.")
    proxy_max_bitrate: str = Field(default="1000k", description="Proxy maximum bitrate when a run does not set one.")

    def _binary(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise FFmpegMissing(f"{self.binary} not found; install it (Debian: apt-get install ffmpeg)")
        return found

    def _trial(self, encoder: str) -> bool:
        """One frame through the encoder: listed is not the same as working (no GPU, no driver)."""
        args = [self._binary(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi",
                "-i", "color=size=256x256:rate=25:duration=0.04", "-frames:v", "1"]
        if encoder == "h264_vaapi":
            args += ["-vaapi_device", "/dev/dri/renderD128", "-vf", "format=nv12,hwupload"]
        args += ["-c:v", encoder, "-f", "null", "-"]
        try:
            return subprocess.run(args, capture_output=True, timeout=20).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def select_encoder(self) -> str:
        if self.encoder != "auto":
            return self.encoder
        version = subprocess.run([self._binary(), "-version"], capture_output=True, text=True).stdout.split("\n")[0]
        cache = Path(self.cache_dir) / "encoder.json" if self.cache_dir else None
        if cache is not None and cache.exists():
            try:
                remembered = json.loads(cache.read_text())
                if remembered.get("ffmpeg") == version:
                    return remembered["encoder"]
            except (ValueError, KeyError):
                pass
        platform = "darwin" if os.uname().sysname == "Darwin" else "linux"
        chosen = next((e for e in HARDWARE_ENCODERS.get(platform, []) if self._trial(e)), "libx264")
        if cache is not None:
            write_atomic(cache, json.dumps({"ffmpeg": version, "encoder": chosen}))
        return chosen

    def derive(
        self,
        clip_id: str,
        source: Path,
        out_dir: Path,
        settings: ProxySettings,
        *,
        duration: float | None,
        has_audio: bool,
        hdr_transfer: str | None,
        sample_aspect: str | None,
        on_progress: Callable[[float], None] | None = None,
    ) -> DerivedMedia:
        """Decode once: proxy MP4, 16 kHz mono WAV, gray analysis frames at the source rate (NUT)."""
        started = time.monotonic()
        encoder = self.select_encoder()
        out_dir.mkdir(parents=True, exist_ok=True)
        final = {"proxy": out_dir / "proxy.mp4", "audio": out_dir / "audio_16k.wav", "analysis": out_dir / "analysis.nut"}
        written = [key for key in final if key != "audio" or has_audio]  # the outputs this ffmpeg run writes
        with ExitStack() as outputs:  # each moved into place when ffmpeg succeeded, removed when it failed
            partial = {key: outputs.enter_context(atomic_path(final[key])) for key in written}
            self._run(self._derive_args(source, partial, settings, encoder, has_audio=has_audio,
                                        hdr_transfer=hdr_transfer, sample_aspect=sample_aspect),
                      clip_id, source, duration, on_progress)
        tone = hdr_transfer in HDR_TRANSFERS
        try:
            described = self._describe(clip_id, final, encoder, settings, tone, has_audio, started, duration)
        except FFmpegError:
            raise
        except Exception as exc:  # PyAV's errors: ffmpeg can exit 0 with an output cut short (seen on a full disk)
            for path in final.values():
                path.unlink(missing_ok=True)
            raise FFmpegError(_unreadable_output(clip_id, out_dir, exc)) from exc
        described.analysis_time_offset = _input_start(source)
        return described

    def _derive_args(self, source: Path, partial: dict[str, Path], settings: ProxySettings, encoder: str, *,
                     has_audio: bool, hdr_transfer: str | None, sample_aspect: str | None) -> list[str]:
        """The one ffmpeg command: decode once, `split` to the proxy and the analysis stream, audio mapped twice."""
        square = "scale='max(2,trunc(iw*sar/2)*2)':ih,setsar=1," if sample_aspect not in (None, "1:1", "0:1") else ""
        tone = TONEMAP + "," if hdr_transfer in HDR_TRANSFERS else ""
        m = settings.max_dimension
        graph = (
            f"[0:v:0]{square}split=2[p0][a0];"
            # eof_action=pass: a clip shorter than one proxy frame (a single frame, 0.04 s) still yields one
            f"[p0]fps=fps={settings.fps}:eof_action=pass,{tone}"
            f"{proxy_scale(m)}:flags=bilinear,format=yuv420p[proxy];"
            # every source frame goes through this branch: the cheapest scaler (64 px needs no more)
            f"[a0]{analysis_scale(settings.analysis_width)}:flags=fast_bilinear,format=gray[analysis]"
        )
        args = [self._binary(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
                "-filter_complex", graph, "-map", "[proxy]"]
        if has_audio:
            args += ["-map", "0:a:0"]
        args += ["-c:v", encoder]
        if encoder == "libx264":
            args += ["-preset", settings.preset, "-crf", str(settings.crf)]
        args += ["-maxrate", settings.max_bitrate, "-bufsize", _double(settings.max_bitrate)]
        if has_audio:  # the `fast` AAC coder: a third of the default twoloop's CPU on music (chaplin 0.78 -> 0.26 s)
            args += ["-c:a", "aac", "-aac_coder", "fast", "-b:a", settings.audio_bitrate, "-ac", "2"]
        args += ["-movflags", "+faststart", "-f", "mp4", str(partial["proxy"])]
        if has_audio:
            args += ["-map", "0:a:0", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", str(partial["audio"])]
        # the source's own time base, so VFR timestamps are not rounded to a frame grid
        args += ["-map", "[analysis]", "-fps_mode", "passthrough", "-enc_time_base", "-1", "-c:v", "rawvideo",
                 "-f", "nut", str(partial["analysis"])]
        args += ["-progress", "pipe:1", "-nostats"]
        return args

    def _run(self, args, clip_id, source, duration, on_progress) -> None:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and on_progress and duration and value.isdigit():
                on_progress(min(int(value) / 1e6 / duration, 1.0))
        stderr = process.stderr.read()
        if process.wait() != 0:
            tail = " | ".join(stderr.strip().splitlines()[-4:]) or f"exit code {process.returncode}"
            raise FFmpegError(f"ffmpeg failed on clip {clip_id} ({source}): {tail}")

    def _describe(self, clip_id, final, encoder, settings, tone_mapped, has_audio, started, duration) -> DerivedMedia:
        import av

        with av.open(str(final["proxy"])) as container:
            if not container.streams.video:
                raise FFmpegError(f"ffmpeg wrote no video frame to the proxy of clip {clip_id} ({final['proxy']})")
            video = container.streams.video[0]
            proxy = (video.codec_context.width, video.codec_context.height, float(video.average_rate or 0),
                     video.codec_context.name)
        with av.open(str(final["analysis"])) as container:
            stream = container.streams.video[0]
            size = (stream.codec_context.width, stream.codec_context.height)
            frames = sum(1 for packet in container.demux(stream) if packet.size)
        audio = final["audio"] if has_audio and final["audio"].exists() else None
        seconds = time.monotonic() - started
        return DerivedMedia(
            clip_id=clip_id, proxy_path=str(final["proxy"]), proxy_width=proxy[0], proxy_height=proxy[1],
            proxy_fps=proxy[2], proxy_codec=proxy[3], proxy_bytes=final["proxy"].stat().st_size, encoder=encoder,
            audio_path=str(audio) if audio else None, audio_sample_rate=16000 if audio else None,
            analysis_path=str(final["analysis"]), analysis_width=size[0], analysis_height=size[1],
            analysis_frames=frames, tone_mapped=tone_mapped, settings=settings, seconds=seconds,
            speed=round(duration / seconds, 2) if duration and seconds else None,
        )


FULL_DISK_BYTES = 1 << 20  # less free space than this where the outputs go: the disk filled while ffmpeg wrote


def _unreadable_output(clip_id: str, out_dir: Path, exc: Exception) -> str:
    """Why clip_id's proxy outputs cannot be read back, with the fix: a full disk says so."""
    try:
        full = shutil.disk_usage(out_dir).free < FULL_DISK_BYTES
    except OSError:
        full = False
    if full:
        return (f"no space left on device for the proxy of clip {clip_id} in {out_dir} (its outputs were cut short); "
                "free space there and run ingest again")
    return f"ffmpeg's outputs for clip {clip_id} in {out_dir} cannot be read back: {exc}"


def _even(expr: str) -> str:
    """An ffmpeg expression rounded to an even number of pixels, at least 2 (yuv420p and libx264 need both)."""
    return f"max(2,round(({expr})/2)*2)"


def proxy_scale(max_dimension: int) -> str:
    """Scale filter fitting the long side into `max_dimension` (never upscaling), both sides even and >= 2.

    Written out instead of ffmpeg's `-2`, which keeps an odd source side odd (a 1x1 clip became 1x2 and
    libx264 refused it) and rounds a 4000x2 strip's short side to 0. Aspect is kept as far as 2 pixels allow.
    """
    long_side = f"trunc(min({max_dimension},max(iw,ih))/2)*2"
    width = f"if(gte(iw,ih),max(2,{long_side}),{_even(f'iw*{long_side}/ih')})"
    height = f"if(gte(iw,ih),{_even(f'ih*{long_side}/iw')},max(2,{long_side}))"
    return f"scale='{width}':'{height}'"


ANALYSIS_MAX_ASPECT = 16  # a 2x3000 strip would make 64x96000 analysis frames; cut scenes need no more than 64x1024


def analysis_scale(width: int) -> str:
    """Scale filter for the gray analysis frames: `width` wide (made even), height by aspect, even, 2 to 16x width."""
    even_width = max(2, width // 2 * 2)
    height = f"min({even_width * ANALYSIS_MAX_ASPECT},{_even(f'ih*{even_width}/iw')})"
    return f"scale={even_width}:'{height}'"


def _input_start(source: Path) -> float:
    """The input's start time, which ffmpeg subtracts from every output timestamp."""
    from catalog_resources.media.pyav import open_container

    with open_container(source) as container:
        return container.start_time / 1_000_000 if container.start_time else 0.0


def _double(rate: str) -> str:
    digits = rate.rstrip("kKmM")
    suffix = rate[len(digits):]
    return f"{float(digits) * 2:g}{suffix}"
