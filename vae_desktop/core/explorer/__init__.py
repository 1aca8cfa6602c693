"""The latent explorer's state without Qt: handles, selection, plane, decode mode, inspected image.

Views (ui/latent) subscribe to its psygnal signals and redraw from it, the way napari's
`components/dims.py` is drawn by `_qt/widgets/qt_dims.py`.
"""

from vae_desktop.core.explorer.decoding import Decoding
from vae_desktop.core.explorer.state import PLANE_DIMS, PLANE_PCA, ExplorerState, Inspected, same_plane

__all__ = ["PLANE_DIMS", "PLANE_PCA", "Decoding", "ExplorerState", "Inspected", "same_plane"]
