"""Collections and tags through the real CLI on a really ingested catalog: what `collection` and `tag` write is what
`list --collection/--tag` and search read; bad input is one line with the project's exit codes; a rejected AI tag
stays rejected when the analysis' rows are written again through the IO manager's own writer."""

import json
import os

import psycopg
import pytest

from catalog_resources.ingest.partition_keys import partition_key
from tests.manage_media import ingest_library
from tests.manage_media import run as cli
from tests.test_cli_errors import one_line_error
from tests.test_ingest import rows

pytestmark = pytest.mark.slow
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def library(module_catalog_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("manage footage")
    ids = ingest_library(folder)
    return {"ids": ids, "folder": folder, "settings": module_catalog_env}


def listed(*filters: str) -> set[str]:
    result = cli("list", "--json", *filters)
    assert result.returncode == 0, result.stderr
    return {row["clip_id"] for row in json.loads(result.stdout)}


def ok_json(*args: str):
    result = cli(*args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_collection_lifecycle_and_list_filter(library):
    ids, folder = library["ids"], library["folder"]
    interview, drone = ids["rooftop interview.mp4"], ids["drone.mkv"]
    assert ok_json("collection", "create", "Project Alpha")["name"] == "Project Alpha"
    assert "already exists" in one_line_error(cli("collection", "create", "project ALPHA"))
    # an id prefix, a path and a file name all name clips, as `show` takes them
    added = ok_json("collection", "add", "project alpha", "--clip-ids", f"{interview[:8]},{folder / 'drone.mkv'}")
    assert added == {"collection": "Project Alpha", "added": sorted([interview, drone]), "already": []}
    again = ok_json("collection", "add", "Project Alpha", "--clip-ids", "drone.mkv",
                    "--clip-ids", partition_key(drone, "drone.mkv"))  # a key copied from the Dagster UI
    assert again["added"] == [] and again["already"] == [drone]
    assert listed("--collection", "Project Alpha") == {interview, drone}
    assert listed("--collection", "project alpha") == {interview, drone}  # case does not matter, as when typed
    shown = ok_json("collection", "show", "Project Alpha")
    assert shown["clip_count"] == 2 and {c["clip_id"] for c in shown["clips"]} == {interview, drone}
    assert shown["duration_seconds"] == pytest.approx(14, abs=0.5)
    removed = ok_json("collection", "remove", "Project Alpha", "--clip-ids", drone)
    assert removed["removed"] == [drone]
    assert listed("--collection", "Project Alpha") == {interview}
    renamed = ok_json("collection", "rename", "Project Alpha", "Alpha final")
    assert renamed == {"old_name": "Project Alpha", "name": "Alpha final"}
    assert listed("--collection", "Alpha final") == {interview} and listed("--collection", "Project Alpha") == set()
    summaries = {c["name"]: c for c in ok_json("collection", "list")}
    assert summaries["Alpha final"]["clip_count"] == 1
    assert summaries["Alpha final"]["size_bytes"] == (folder / "rooftop interview.mp4").stat().st_size
    assert ok_json("collection", "delete", "Alpha final") == {"name": "Alpha final", "clip_count": 1}
    assert listed() >= {interview, drone}  # the clips stay cataloged
    assert "no collection named 'Alpha final'" in one_line_error(cli("collection", "show", "Alpha final"))


def test_collection_from_list_and_from_search(library):
    ids = library["ids"]
    ok_json("collection", "create", "picked")
    from_list = ok_json("collection", "add", "picked", "--from-list", "--codec", "vp9")
    assert from_list["added"] == [ids["drone.mkv"]]
    from_search = ok_json("collection", "add", "picked", "--from-search", "solar panels pricing")
    assert ids["rooftop interview.mp4"] in from_search["added"]
    assert listed("--collection", "picked") == {ids["drone.mkv"], ids["rooftop interview.mp4"]}
    # the search with a filter that excludes it adds nothing: exit 1, one line on stderr
    nothing = cli("collection", "add", "picked", "--from-search", "solar panels codec:prores")
    assert nothing.returncode == 1 and "nothing added" in nothing.stderr


def test_bad_clip_and_collection_references_are_one_line(library):
    ids = library["ids"]
    assert "no collection named 'nope'" in one_line_error(cli("collection", "add", "nope", "--clip-ids", ids["drone.mkv"]))
    ok_json("collection", "create", "refs")
    # two clips were cataloged under the file name b-roll.mov (two folders): the name alone is ambiguous
    line = one_line_error(cli("collection", "add", "refs", "--clip-ids", "b-roll.mov"))
    assert "ambiguous" in line and ids["b-roll.mov"] in line and ids["day2/b-roll.mov"] in line
    # an id prefix two clips share: a second clip row whose id starts like the interview's
    twin = ids["rooftop interview.mp4"][:6] + "0000000000"
    with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
        conn.execute("INSERT INTO clips (clip_id, file_name, path, size_bytes, md5, fast_hash, fingerprint)"
                     " VALUES (%s, 'twin.mp4', '/nowhere/twin.mp4', 1, 'm', 'f', %s)", (twin, twin))
    try:
        line = one_line_error(cli("tag", "add", "x", "--clip-id", twin[:6]))
        assert "ambiguous" in line and twin in line
    finally:
        with psycopg.connect(os.environ["VIDEO_CATALOG_DATABASE_URL"]) as conn:
            conn.execute("DELETE FROM clips WHERE clip_id = %s", (twin,))
    assert "no cataloged clip" in one_line_error(cli("tag", "add", "x", "--clip-id", "ffffffffff"))
    assert "say which clips" in one_line_error(cli("collection", "add", "refs"))
    assert "at most" in one_line_error(cli("collection", "create", "x" * 300))
    assert rows("SELECT count(*) FROM clip_tags ct JOIN tags t USING (tag_id) WHERE t.name = 'x'")[0][0] == 0


def test_user_tags_filter_list_and_search(library):
    ids = library["ids"]
    broll, drone = ids["b-roll.mov"], ids["drone.mkv"]
    added = ok_json("tag", "add", "Interview, primary", "--clip-id", broll, "--clip-id", drone)
    assert len(added["added"]) == 4 and added["already"] == []
    assert listed("--tag", "interview") == {broll, drone} == listed("--tag", "PRIMARY")
    mine = ok_json("tag", "list", "--clip-id", broll)
    assert {(t["tag"], t["source"], t["review"]) for t in mine} == {("interview", "user", None), ("primary", "user", None)}
    removed = ok_json("tag", "remove", "primary", "--clip-id", drone)
    assert [r["tag"] for r in removed["removed"]] == ["primary"] and removed["rejected"] == []
    assert listed("--tag", "primary") == {broll}
    counts = {(c["tag"], c["source"]): c["clips"] for c in ok_json("tag", "list")}
    assert counts[("interview", "user")] == 2 and counts[("primary", "user")] == 1
    # `search tag:...` reads the same tags as `list --tag`
    hits = cli("search", "b-roll tag:primary", "--mode", "text", "--json")
    assert {h["clip_id"] for h in json.loads(hits.stdout)} <= {broll}
    assert "no ai or visual tag" in one_line_error(cli("tag", "reject", "primary", "--clip-id", broll), code=1)


def _rewrite_analysis(library, clip_id: str, keywords: list[str] | None = None) -> None:
    """The clip's ai_analysis rows written again by the IO manager's own writer from its sidecar, as a re-run of
    the analysis writes them (optionally with other keywords, as a changed model would find)."""
    from catalog_assets.io_manager import ASSET_TABLES, sidecar_path
    from catalog_resources.resources.catalog import CatalogResource

    model_cls, writer = ASSET_TABLES["ai_analysis"]
    model = model_cls.model_validate_json(sidecar_path(library["settings"].media_dir, clip_id, "ai_analysis").read_text())
    if keywords is not None:
        model.summary.keywords = keywords
    store = CatalogResource(database_url=os.environ["VIDEO_CATALOG_DATABASE_URL"])
    with store.connect() as conn:
        writer(store, conn, model)


def ai_tags(clip_id: str) -> dict[str, str | None]:
    return {name: review for name, review in rows(
        "SELECT t.name, ct.review FROM clip_tags ct JOIN tags t USING (tag_id) WHERE ct.clip_id = %s AND ct.source = 'ai'",
        clip_id)}


def test_rejected_ai_tag_stays_rejected_when_the_analysis_runs_again(library):
    interview = library["ids"]["rooftop interview.mp4"]
    first = ai_tags(interview)
    assert "solar panels" in first and "rooftop interview" in first, first  # the analysis' keywords
    assert interview in listed("--tag", "solar panels")
    rejected = ok_json("tag", "reject", "solar panels", "--clip-id", interview[:8])
    assert rejected == [{"clip_id": interview, "tag": "solar panels", "source": "ai"}]
    ok_json("tag", "accept", "rooftop interview", "--clip-id", interview)
    assert interview not in listed("--tag", "solar panels")
    _rewrite_analysis(library, interview)
    again = ai_tags(interview)
    assert again["solar panels"] == "rejected" and again["rooftop interview"] == "accepted"
    assert interview not in listed("--tag", "solar panels")
    # a changed analysis: unreviewed tags are replaced, the reviewed ones are kept as the user left them
    _rewrite_analysis(library, interview, ["solar panels", "harbour"])
    assert ai_tags(interview) == {"solar panels": "rejected", "rooftop interview": "accepted", "harbour": None}
    # `tag remove` of a machine tag rejects it (deleting would let the next analysis bring it back)
    removed = ok_json("tag", "remove", "harbour", "--clip-id", interview)
    assert removed["removed"] == [] and [r["tag"] for r in removed["rejected"]] == ["harbour"]
    _rewrite_analysis(library, interview, ["harbour"])
    assert ai_tags(interview)["harbour"] == "rejected"
    # a rejected tag is no search evidence either, and `tag list --review` finds the rejections
    assert {t["tag"] for t in ok_json("tag", "list", "--clip-id", interview, "--review", "rejected")} == {
        "solar panels", "harbour"}
    # adding it yourself takes the rejection back
    ok_json("tag", "add", "solar panels", "--clip-id", interview)
    assert interview in listed("--tag", "solar panels")
    _rewrite_analysis(library, interview, [])
    assert rows("SELECT ct.source, ct.review FROM clip_tags ct JOIN tags t USING (tag_id) WHERE ct.clip_id = %s"
                " AND t.name = 'solar panels'", interview) == [("user", None)]
