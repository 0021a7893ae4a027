"""catalog_record: the clip's denormalized search row, rebuilt from the normalized rows."""


from dagster import AssetExecutionContext, Failure, Output

from catalog_assets.metadata import clip_output, json_metadata
from catalog_assets.partitions import clip_asset, clip_ids
from catalog_resources.resources.catalog import CatalogResource
from catalog_resources.models.clips import CatalogRecord, ClipFacts
from catalog_resources.search.evidence import without_absences
from catalog_resources.work.cpu import StepClock


def build_record(clip_id: str, catalog: CatalogResource) -> CatalogRecord:
    row = catalog.record_inputs(clip_id)
    if row is None:
        raise Failure(description=f"clip {clip_id} has no clip_source row yet; materialize clip_source first")
    facts = {name: row[name] for name in ClipFacts.model_fields}
    extra: dict = {}
    tech = row.get("technical")
    if tech:  # technical_metadata, when that step ran, is the better source for the filter columns
        for name, column in (("container", "container_format"), ("duration_seconds", "duration_seconds"),
                             ("video_codec", "video_codec"), ("width", "width"), ("height", "height"),
                             ("frame_rate", "frame_rate")):
            if tech[column] is not None:
                facts[name] = tech[column]
        camera = " ".join(p for p in (tech["camera_make"], tech["camera_model"]) if p) or None
        extra = {"camera": camera, "hdr_format": tech["hdr_format"], "recorded_at": tech["recorded_at"]}
    frame = row.get("frame") or {}
    poster = row.get("poster_path")
    extra |= {"shot_type": frame.get("dominant_shot_type"), "quality_score": frame.get("quality_score"),
              "poster_path": min(poster["paths"].items(), key=lambda kv: int(kv[0]))[1] if poster else None}
    words = [row["file_name"], *row["paths"], facts.get("video_codec"), facts.get("container"),
             extra.get("camera"), extra.get("hdr_format"), (tech or {}).get("source_workflow"),
             without_absences(extra["shot_type"])]
    analysis = row.get("analysis")
    if analysis:  # what the clip says and shows, so full-text search finds spoken and written words
        entities = analysis["entities"] or {}
        extra |= {"summary": analysis["summary"], "keywords": list(analysis["keywords"] or [])}
        words += [without_absences(analysis["summary"]), *extra["keywords"],
                  *map(without_absences, analysis["scene_classification"]),
                  *analysis["on_screen_text"], *(n for names in entities.values() for n in names), analysis["full_text"]]
    words += row.get("visual") or []  # what each scene shows (frame_analysis), so silent footage is found too
    # the labels and notes of manual segments (`segments add`, which rebuilds this row itself); a clip without any
    # gets the same document as before, so code_version stays
    words += row.get("manual") or []
    document = " ".join(str(w) for w in words if w)
    return CatalogRecord(**facts, **extra, paths=row["paths"], status=row["status"], document=document)


def _clip_metadata(record: CatalogRecord) -> dict[str, object]:
    """This clip's search row as `list` / `show` will return it (the long text document left out)."""
    return {"status": record.status, "preview": json_metadata(record.model_dump(exclude={"document"}))}


@clip_asset(
    deps=["clip_source", "technical_metadata", "thumbnails", "frame_analysis", "ai_analysis"],
    code_version="4",  # 4: "no people" left out of the document
    group_name="catalog",
    kinds={"postgres"},
)
def catalog_record(context: AssetExecutionContext, catalog: CatalogResource) -> Output[dict[str, CatalogRecord]]:
    """Builds the clip's search row (name, paths, duration, size, checksum, status and a text document)
    from the catalog tables. It depends on the other assets without loading them, so a disabled step
    only leaves its fields empty."""
    started = StepClock.start()
    records = {clip_id: build_record(clip_id, catalog) for clip_id in clip_ids(context.partition_keys)}
    return clip_output(context, records, _clip_metadata, started=started)
