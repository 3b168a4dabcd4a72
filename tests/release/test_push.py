"""curate push against a Hub-compatible server on 127.0.0.1, driven by the real huggingface_hub.

The server (tests/hub_server.py) keeps commits as immutable snapshots and refuses to move a tag,
like the Hub, so these tests check what a user relies on: one commit per release, a tag that
never moves, a tagged revision that downloads and loads with `datasets` as it was built, and a
token that stays in the environment.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import datasets
import huggingface_hub
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError

from curate.release.push import PushError, push


def _load_hub_server():
    """tests/ is no package (pytest runs with --import-mode=importlib): load the server by path."""
    path = Path(__file__).resolve().parents[1] / "hub_server.py"
    spec = importlib.util.spec_from_file_location("hub_server", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("hub_server", module)
    spec.loader.exec_module(module)
    return module


hub_server = _load_hub_server()

TOKEN = "hf_curateTestToken7f3a9c1e5b"  # distinctive, so a grep for it cannot miss
REPO = "curate-org/demo"
CONFIGS = {
    "ticks": {
        "train": pa.table(
            {
                "tick": [0, 1, 2, 3],
                "action": ["forward", "jump", "attack", "noop"],
                "camera": [[0.0, 1.5], [-2.25, 0.0], [0.0, 0.0], [10.0, -7.5]],
            }
        ),
        "validation": pa.table(
            {"tick": [0, 1], "action": ["use", "sneak"], "camera": [[0.5, 0.5], [0.0, -1.0]]}
        ),
    },
    "text_action": {
        "train": pa.table({"text": ["Action: move(forward)", "Action: jump()", "Action: none"]}),
        "validation": pa.table({"text": ["Action: use()"]}),
    },
}
LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


def write_release(
    folder: Path, version: str, configs: dict = CONFIGS, *, name: str = "demo"
) -> Path:
    """A release folder as `curate build` writes it: card, one parquet per split, meta."""
    data_files: dict[str, list[dict]] = {}
    for config, splits in configs.items():
        for split, table in splits.items():
            path = f"data/{config}/{split}-00000-of-00001.parquet"
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / path)
            data_files.setdefault(config, []).append({"split": split, "path": path})
    card = {"configs": [{"config_name": c, "data_files": f} for c, f in data_files.items()]}
    readme = f"---\n{yaml.safe_dump(card, sort_keys=False)}---\n\n# curate test release\n"
    (folder / "README.md").write_text(readme, encoding="utf-8")
    files = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    content_hash = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    meta = {"name": name, "version": version, "fingerprint": "0" * 64}
    meta["content_hash"] = content_hash
    (folder / "meta").mkdir(exist_ok=True)
    (folder / "meta" / "release.json").write_text(json.dumps(meta | {"files": files}, indent=2))
    return folder


def repo_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def local_network_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """Refuse, and record, any connection or name lookup beyond this machine."""
    attempts: list = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address):  # noqa: ANN001
        if isinstance(address, tuple) and address[0] not in LOCAL_HOSTS:
            attempts.append(address)
            raise OSError(f"test network guard: no connection to {address}")
        return connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):  # noqa: ANN001
        if host not in LOCAL_HOSTS and host is not None:
            attempts.append(host)
            raise socket.gaierror(f"test network guard: no lookup of {host}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == [], f"tests tried to reach {attempts}"


@pytest.fixture
def hf_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HF_HOME: huggingface_hub reads its paths at import, so patch them too."""
    home = tmp_path / "hf_home"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HOME", str(home))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_STORED_TOKENS_PATH", str(home / "tokens"))
    harnesses = str(home / ".agent_harnesses.json")
    monkeypatch.setattr(huggingface_hub.constants, "AGENT_HARNESSES_PATH", harnesses)
    return home


@pytest.fixture
def hub(tmp_path: Path, hf_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The local Hub, with HF_ENDPOINT and HF_TOKEN pointing at it as a user would set them."""
    with hub_server.HubServer(tmp_path / "hub", TOKEN, page_size=3) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_TOKEN", TOKEN)
        for name in ("HF_HUB_OFFLINE", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_DISABLE_PROGRESS_BARS"):
            monkeypatch.delenv(name, raising=False)
        # Read once at import: whatever the library itself sends must go to this server too.
        monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", server.url)
        template = server.url + "/{repo_id}/resolve/{revision}/{filename}"
        monkeypatch.setattr(huggingface_hub.constants, "HUGGINGFACE_CO_URL_TEMPLATE", template)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        yield server


@pytest.fixture
def api(hub) -> HfApi:
    return HfApi(endpoint=hub.url, token=TOKEN)


@pytest.fixture
def release(tmp_path: Path) -> Path:
    return write_release(tmp_path / "release", "0.1.0")


def refs(api: HfApi) -> tuple[dict[str, str], dict[str, str]]:
    """(branches, tags) of the test repo, name -> commit."""
    found = api.list_repo_refs(REPO, repo_type="dataset")
    return (
        {r.name: r.target_commit for r in found.branches},
        {r.name: r.target_commit for r in found.tags},
    )


def writes(hub) -> list[tuple[str, str]]:
    """The requests that change a repo."""
    return [(m, p) for m, p in hub.requests if m == "POST" and "/validate-yaml" not in p]


def uploads(hub, since: int) -> list[str]:
    """The requests after `since` that upload, commit or tag."""
    posts = [p for m, p in hub.requests[since:] if m == "POST"]
    return [p for p in posts if any(s in p for s in ("/preupload/", "/commit/", "/tag/"))]


def test_push_uploads_one_commit_and_tags_it(hub, api: HfApi, release: Path) -> None:
    result = push(release, REPO, progress=False)

    branches, tags = refs(api)
    assert result.tag == "v0.1.0"
    assert tags == {"v0.1.0": result.commit}
    assert branches["main"] == result.commit
    assert result.url == f"{hub.url}/datasets/{REPO}/tree/v0.1.0"
    assert ("dataset", REPO) in hub.repos
    commit = hub.repos[("dataset", REPO)].commits[result.commit]
    assert commit.message == "curate release v0.1.0"
    assert [p for m, p in writes(hub) if "/commit/" in p] == [f"/api/datasets/{REPO}/commit/main"]
    tagged = api.list_repo_files(REPO, repo_type="dataset", revision="v0.1.0")
    assert sorted(tagged) == sorted([".gitattributes", *repo_files(release)])


def test_a_tag_is_never_moved(hub, api: HfApi, release: Path) -> None:
    first = push(release, REPO, progress=False)
    (release / "README.md").write_text("---\nconfigs: []\n---\n# edited\n", encoding="utf-8")
    before = len(hub.requests)

    with pytest.raises(PushError, match=r"tag v0\.1\.0 already exists on curate-org/demo") as error:
        push(release, REPO, progress=False)

    assert "a release is never re-tagged" in str(error.value)
    assert "bump `version` in the recipe" in str(error.value)
    assert refs(api) == ({"main": first.commit}, {"v0.1.0": first.commit})
    assert uploads(hub, before) == []


def test_a_new_version_gets_its_own_commit_and_tag(
    tmp_path: Path, hub, api: HfApi, release: Path
) -> None:
    first = push(release, REPO)
    ticks_only = {"ticks": {"train": CONFIGS["ticks"]["validation"]}}
    second_release = write_release(tmp_path / "release2", "0.2.0", ticks_only)

    second = push(second_release, REPO)

    assert second.tag == "v0.2.0" and second.commit != first.commit
    assert refs(api) == (
        {"main": second.commit},
        {"v0.1.0": first.commit, "v0.2.0": second.commit},
    )
    # The new tree is exactly the new release: no shard of v0.1.0 leaks into it.
    new = api.list_repo_files(REPO, repo_type="dataset", revision="v0.2.0")
    old = api.list_repo_files(REPO, repo_type="dataset", revision="v0.1.0")
    assert sorted(new) == sorted([".gitattributes", *repo_files(second_release)])
    assert sorted(old) == sorted([".gitattributes", *repo_files(release)])


def test_the_tagged_release_downloads_and_loads_as_built(
    tmp_path: Path, hub, release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    push(release, REPO, progress=False)
    push(write_release(tmp_path / "next", "0.2.0", {"ticks": CONFIGS["ticks"]}), REPO)
    local = tmp_path / "download"

    huggingface_hub.snapshot_download(
        REPO,
        repo_type="dataset",
        revision="v0.1.0",
        endpoint=hub.url,
        local_dir=local,
        cache_dir=tmp_path / "hub_cache",
    )

    for path in repo_files(release):
        assert (local / path).read_bytes() == (release / path).read_bytes(), path
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    for config, splits in CONFIGS.items():
        loaded = datasets.load_dataset(str(local), config, cache_dir=str(tmp_path / "ds_cache"))
        assert set(loaded) == set(splits)
        for split, table in splits.items():
            assert loaded[split].to_list() == table.to_pylist(), (config, split)


def test_the_token_stays_in_the_environment(tmp_path: Path, hub, release: Path) -> None:
    """A real run, in its own process and HF_HOME: the token is on no disk and in no output."""
    home, local = tmp_path / "user_home", tmp_path / "download"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env |= {"HF_HOME": str(home), "HF_ENDPOINT": hub.url, "HF_TOKEN": TOKEN}
    script = (
        "import sys, huggingface_hub\n"
        "from pathlib import Path\n"
        "from curate.release.push import push\n"
        f"print(push(Path(sys.argv[1]), {REPO!r}))\n"
        f"huggingface_hub.snapshot_download({REPO!r}, repo_type='dataset', revision='v0.1.0')\n"
        f"huggingface_hub.snapshot_download({REPO!r}, repo_type='dataset', local_dir=sys.argv[2])\n"
    )

    run = subprocess.run(
        [sys.executable, "-c", script, str(release), str(local)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    assert "v0.1.0" in run.stdout
    assert TOKEN not in run.stdout + run.stderr
    assert any((home / "hub").rglob("*.parquet")), "the download should have used HF_HOME"
    written = [p for root in (home, release, local) for p in root.rglob("*") if p.is_file()]
    assert written
    assert not [p for p in written if TOKEN.encode() in p.read_bytes()]


def test_a_release_of_another_name_is_not_replaced(
    tmp_path: Path, hub, api: HfApi, release: Path
) -> None:
    first = push(release, REPO, progress=False)
    other = write_release(tmp_path / "other", "0.2.0", name="other")
    before = len(hub.requests)

    with pytest.raises(PushError) as error:
        push(other, REPO, progress=False)

    message = str(error.value)
    assert "main of curate-org/demo holds release 'demo' version 0.1.0, not 'other'" in message
    assert "push to a repo of its own with --repo, or pass --force" in message
    assert refs(api) == ({"main": first.commit}, {"v0.1.0": first.commit})
    assert uploads(hub, before) == []


def test_a_main_with_unreadable_release_meta_is_not_replaced(
    hub, api: HfApi, release: Path
) -> None:
    api.create_repo(REPO, repo_type="dataset")
    api.upload_file(
        path_or_fileobj=b"not json",
        path_in_repo="meta/release.json",
        repo_id=REPO,
        repo_type="dataset",
    )
    before = len(hub.requests)

    with pytest.raises(PushError, match="holds a meta/release.json with no release name"):
        push(release, REPO, progress=False)

    assert uploads(hub, before) == []


def test_force_replaces_a_release_of_another_name(
    tmp_path: Path, hub, api: HfApi, release: Path
) -> None:
    first = push(release, REPO, progress=False)
    other = write_release(tmp_path / "other", "0.1.1", {"ticks": CONFIGS["ticks"]}, name="other")

    second = push(other, REPO, progress=False, force=True)

    assert refs(api) == ({"main": second.commit}, {"v0.1.0": first.commit, "v0.1.1": second.commit})
    files = api.list_repo_files(REPO, repo_type="dataset", revision="main")
    assert sorted(files) == sorted([".gitattributes", *repo_files(other)])


def test_a_version_below_the_newest_tag_is_refused(
    tmp_path: Path, hub, api: HfApi, release: Path
) -> None:
    push(write_release(tmp_path / "a", "0.2.0"), REPO, progress=False)
    newest = push(write_release(tmp_path / "b", "0.10.0"), REPO, progress=False)  # 10 > 2
    api.create_tag(REPO, tag="v-legacy", revision="main", repo_type="dataset")  # not a version
    before, tags = len(hub.requests), refs(api)[1]

    with pytest.raises(PushError) as error:
        push(write_release(tmp_path / "c", "0.9.0"), REPO, progress=False)

    message = str(error.value)
    assert "curate-org/demo already has release v0.10.0, newer than 0.9.0" in message
    assert "set `version` in the recipe above 0.10.0 and build again" in message
    assert "or pass --force" in message
    assert refs(api) == ({"main": newest.commit}, tags)
    assert uploads(hub, before) == []


@pytest.mark.parametrize(
    ("tagged", "version"),
    [("1.0.0", "1.0.0-rc.1"), ("1.0.0-rc.2", "1.0.0-rc.1"), ("1.0.0-rc.10", "1.0.0-rc.9")],
)
def test_prereleases_are_ordered_as_semantic_versions(
    tmp_path: Path, hub, tagged: str, version: str
) -> None:
    push(write_release(tmp_path / "a", tagged), REPO, progress=False)

    with pytest.raises(PushError, match=f"already has release v{tagged}, newer than {version}"):
        push(write_release(tmp_path / "b", version), REPO, progress=False)


def test_force_pushes_an_older_version_without_moving_a_tag(
    tmp_path: Path, hub, api: HfApi, release: Path
) -> None:
    newest = push(write_release(tmp_path / "a", "0.10.0"), REPO, progress=False)

    older = push(write_release(tmp_path / "b", "0.9.0"), REPO, progress=False, force=True)

    assert refs(api) == ({"main": older.commit}, {"v0.10.0": newest.commit, "v0.9.0": older.commit})
    with pytest.raises(PushError, match=r"tag v0\.9\.0 already exists"):
        push(write_release(tmp_path / "c", "0.9.0"), REPO, progress=False, force=True)
    assert refs(api)[1] == {"v0.10.0": newest.commit, "v0.9.0": older.commit}


def test_the_cli_documents_force() -> None:
    from typer.testing import CliRunner

    from curate.cli import app

    result = CliRunner().invoke(app, ["push", "--help"], env={"COLUMNS": "200"})

    assert result.exit_code == 0
    assert "--force" in result.output
    assert "another name" in result.output


def test_a_folder_without_release_meta_is_refused_before_any_request(
    tmp_path: Path, hub, release: Path
) -> None:
    (release / "meta" / "release.json").unlink()

    with pytest.raises(PushError, match="not a release folder: run curate build first"):
        push(release, REPO)

    assert hub.requests == []


@pytest.mark.parametrize("token", ["hf_wrongToken", None], ids=["wrong", "missing"])
def test_refused_credentials_say_set_hf_token(
    hub, release: Path, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    if token is None:
        monkeypatch.delenv("HF_TOKEN")
    else:
        monkeypatch.setenv("HF_TOKEN", token)

    with pytest.raises(PushError, match=r"refused the credentials \(401\): set HF_TOKEN") as info:
        push(release, REPO, progress=False)

    assert hub.repos == {}
    assert token is None or token not in str(info.value)  # an error never repeats the token


def test_an_unreachable_hub_is_named(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", endpoint)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    with pytest.raises(PushError, match=f"cannot reach the Hub at {endpoint}"):
        push(release, REPO, progress=False)


def test_offline_mode_is_named(hub, release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)

    with pytest.raises(PushError, match="HF_HUB_OFFLINE is set: unset it to push"):
        push(release, REPO, progress=False)

    assert hub.requests == []


def test_a_tag_made_by_someone_else_during_the_push_is_not_moved(
    hub, api: HfApi, release: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commit = HfApi.create_commit

    def commit_then_race(self: HfApi, *args, **kwargs):  # noqa: ANN002, ANN003
        info = commit(self, *args, **kwargs)
        api.create_tag(REPO, tag="v0.1.0", revision=info.oid, repo_type="dataset")
        return info

    monkeypatch.setattr(HfApi, "create_commit", commit_then_race)

    with pytest.raises(PushError, match=r"already exists.*reached main untagged"):
        push(release, REPO, progress=False)


def test_the_server_answers_409_to_a_second_tag(api: HfApi, release: Path) -> None:
    result = push(release, REPO, progress=False)

    with pytest.raises(HfHubHTTPError) as error:
        api.create_tag(REPO, tag=result.tag, revision="main", repo_type="dataset")

    assert error.value.response.status_code == 409


def test_private_applies_to_a_new_repo(hub, release: Path) -> None:
    push(release, REPO, private=True, progress=False)

    assert hub.repos[("dataset", REPO)].private


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release made by `curate build` from two short recordings of the built-in world."""
    from curate.release.build import build
    from curate.world.record import synthesize

    root = tmp_path_factory.mktemp("built")
    synthesize(root / "raw", episodes=2, seconds=2, seed=1)
    recipe = root / "recipe.yaml"
    recipe.write_text(
        "name: pushed\nversion: 1.0.0\nsources: [{format: vpt, path: raw}]\n"
        "configs: [ticks, motion_coa]\nimages: {width: 64, height: 36, stride: 5}\n"
    )
    return build(recipe, root / "release").folder


def test_a_built_release_round_trips_through_the_hub(
    tmp_path: Path, hub, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.release.verify import verify

    result = push(built, REPO, progress=False)
    assert result.tag == "v1.0.0"
    local = tmp_path / "download"
    huggingface_hub.snapshot_download(
        REPO, repo_type="dataset", revision="v1.0.0", endpoint=hub.url, local_dir=local,
        cache_dir=tmp_path / "hub_cache",
    )  # fmt: skip
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    assert verify(local) == []  # every file, hash, count and config, as built
