"""Packaging: every folder of installed data is a declared package, so installs are quiet.

`make run` reinstalls the project on every start; setuptools printed ~180
lines of warnings for data folders (templates, static files, catalogues)
that were not declared packages (issue 23 item 10).
"""
import configparser
from pathlib import Path

from setuptools import find_namespace_packages

REPO = Path(__file__).resolve().parents[1]


def test_every_folder_holding_package_data_is_a_declared_package():
    config = configparser.ConfigParser()
    config.read(REPO / "setup.cfg")
    assert config["options"]["packages"].strip() == "find_namespace:"
    include = config["options.packages.find"]["include"].split()
    packages = set(find_namespace_packages(str(REPO), include=include))
    undeclared = []
    for package, globs in config["options.package_data"].items():
        base = REPO / package.replace(".", "/")
        for pattern in globs.replace(",", " ").split():
            for found in base.glob(pattern):
                folder = ".".join(found.parent.relative_to(REPO).parts)
                if folder not in packages:
                    undeclared.append(folder)
    assert sorted(set(undeclared)) == []
