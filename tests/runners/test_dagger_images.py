"""The read-only root filesystem of a production image on Dagger: which directories are mounted read-only, which
the probe tries (from a real image's ``rootfs().entries()``)."""

from __future__ import annotations

from jessy_ci.runners.dagger_images import directories, read_only_directories

# jessy-core's production image on distroless cc (entries() of its rootfs on the engine): symlinks have no "/"
CORE_ENTRIES = [
    "bin", "boot/", "data/", "dev/", "etc/", "home/", "lib", "lib64", "proc/", "root/", "run/", "sbin", "sys/",
    "tmp/", "usr/", "var/",
]  # fmt: skip


def test_every_top_level_directory_is_read_only_but_the_kernels_the_runtimes_and_the_volumes() -> None:
    assert read_only_directories(CORE_ENTRIES, "/data") == [
        "/boot", "/home", "/root", "/run", "/tmp", "/usr", "/var",
    ]  # fmt: skip


def test_the_probe_tries_the_root_every_directory_and_the_users_home() -> None:
    assert directories(CORE_ENTRIES, "/data", "/home/nonroot") == [
        "/", "/boot", "/etc", "/home", "/root", "/run", "/tmp", "/usr", "/var", "/home/nonroot",
    ]  # fmt: skip


def test_without_a_data_volume_its_directory_is_read_only_too() -> None:
    assert "/data" in read_only_directories(CORE_ENTRIES, None)
    assert directories(CORE_ENTRIES, None, "")[-1] == "/var"
