"""Fetch the benchmark files into paths.data_root, verifying each one's SHA-256 (see stancekit.data.download).

python scripts/download_data.py                                # everything, from the original URLs
python scripts/download_data.py paths.data_root=/data/nli     # somewhere else (or STANCEKIT_DATA_ROOT=...)
python scripts/download_data.py 'only=[snli,fnc1/splits]'      # some folders or files
python scripts/download_data.py base_url=https://mirror.example/data   # a mirror laid out like the data root
"""

import hydra
from omegaconf import DictConfig

from stancekit.config import CONFIG_DIR, set_project_root
from stancekit.data.download import DownloadError, download_from_config

set_project_root()


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="download_data")
def main(cfg: DictConfig) -> None:
    try:
        summary = download_from_config(cfg)
    except DownloadError as error:  # each file's problem is the message; a traceback would add nothing
        raise SystemExit(f"stancekit data download: {error}") from None
    print(f"\n{summary.describe()}")


if __name__ == "__main__":
    main()
