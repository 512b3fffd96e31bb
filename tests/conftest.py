from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
NYU_DIR = SHARED / "nyu"


@pytest.fixture
def nyu_dir() -> Path:
    if not NYU_DIR.is_dir():
        pytest.skip(f"real NYU files not found at {NYU_DIR}; they live in ../shared/nyu beside the checkout")
    return NYU_DIR
