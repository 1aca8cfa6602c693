"""Default run folders: `<user data folder>/runs/<date>-<dataset>-z<z>/`, never two runs in one."""

from __future__ import annotations

from datetime import datetime

from vae_desktop.core.paths import new_run_folder, run_folder_name, user_runs_dir

DAY = datetime(2026, 12, 2, 23, 59)


def test_names_say_the_date_the_dataset_and_the_latent_size():
    assert run_folder_name("mnist", 2, DAY) == "2026-12-02-mnist-z2"
    assert run_folder_name("fashion-mnist", 16, DAY) == "2026-12-02-fashion-mnist-z16"
    assert run_folder_name("folder:/home/ann/My Photos/", 8, DAY) == "2026-12-02-my-photos-z8"
    assert run_folder_name("folder:C:\\Users\\ann\\Cats & Dogs", 4, DAY) == "2026-12-02-cats-dogs-z4"
    assert run_folder_name("folder:/data/ünïcode:*?", 2, DAY) == "2026-12-02-n-code-z2"
    assert run_folder_name("folder:/", 2, DAY) == "2026-12-02-run-z2"
    assert len(run_folder_name("folder:/x/" + "a" * 300, 2, DAY)) < 60


def test_new_run_folders_are_created_and_never_reused(tmp_path):
    first = new_run_folder(tmp_path / "runs", "mnist", 2, DAY)
    second = new_run_folder(tmp_path / "runs", "mnist", 2, DAY)
    third = new_run_folder(tmp_path / "runs", "mnist", 2, DAY)
    assert [p.name for p in (first, second, third)] == ["2026-12-02-mnist-z2", "2026-12-02-mnist-z2-2",
                                                        "2026-12-02-mnist-z2-3"]
    assert all(p.is_dir() and not any(p.iterdir()) for p in (first, second, third))


def test_the_runs_folder_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    assert user_runs_dir() == tmp_path / "data" / "runs"
