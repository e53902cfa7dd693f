"""An iso-surface of an MPR volume: flying edges, then decimated to a triangle budget.

Flying edges over a 512 x 512 x 500 CT at bone level makes ~2.7 M triangles, 2.4 s a
frame on llvmpipe (notes/desktop-stack.md), so the surface is decimated with quadric
clustering (linear time) until it has at most ``max_triangles``; the grid is made finer
first and coarser on every retry. Surfaces are built in index space (the volume's
vtkImageData, no copy) and placed with the LPS affine as the actor's user matrix.
Every step is a pipeline ``Update()``, which releases Python's GIL: a worker thread
can build a surface while the GUI thread keeps going. With a crop box only the voxels
inside it are contoured (``vtkExtractVOI``): the surface is cut open at the box's faces,
as the cropped volume rendering is, and costs less to build.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkPolyData
from vtkmodules.vtkFiltersCore import (
    vtkFlyingEdges3D,
    vtkPolyDataNormals,
    vtkQuadricClustering,
)
from vtkmodules.vtkImagingCore import vtkExtractVOI
from vtkmodules.vtkRenderingCore import vtkActor, vtkPolyDataMapper

from workstation.mpr._vtk.vtk_reslice import image_data_of, vtk_matrix
from workstation.mpr.volume import MprVolume

#: Most triangles a surface keeps (the issue's budget).
MAX_TRIANGLES = 500_000
#: Clustering grid shrink factor per retry when a surface is still over budget.
_SHRINK = 0.75


def iso_surface(
    volume: MprVolume,
    value: float,
    max_triangles: int = MAX_TRIANGLES,
    *,
    crop: Sequence[float] | None = None,
) -> vtkPolyData:
    """The surface where the volume crosses `value` (modality units, e.g. HU), in the
    volume's index space, with at most `max_triangles` triangles and point normals;
    with `crop` (x0, x1, y0, y1, z0, z1 in fractions 0-1 of the column, row and slice
    axes) only inside that box."""
    image = image_data_of(volume)
    edges = vtkFlyingEdges3D()
    if crop is not None:
        x0, x1, y0, y1, z0, z1 = volume.crop_box_index(crop)
        voi = vtkExtractVOI()
        voi.SetInputData(image)
        # whole voxels inside the box (nothing drawn outside it, at most a voxel short)
        lo = [math.ceil(v - 1e-6) for v in (x0, y0, z0)]
        hi = [max(math.floor(v + 1e-6), a) for v, a in zip((x1, y1, z1), lo, strict=True)]
        voi.SetVOI(lo[0], hi[0], lo[1], hi[1], lo[2], hi[2])
        voi.Update()
        edges.SetInputData(voi.GetOutput())
    else:
        edges.SetInputData(image)
    edges.SetValue(0, (value - volume.value_intercept) / volume.value_slope)
    edges.ComputeNormalsOff()
    edges.ComputeGradientsOff()
    edges.ComputeScalarsOff()
    edges.Update()
    surface: vtkPolyData = edges.GetOutput()
    if surface.GetNumberOfPolys() > max_triangles:
        surface = _decimated(surface, volume.shape, max_triangles)
    normals = vtkPolyDataNormals()
    normals.SetInputData(surface)
    normals.SplittingOff()
    normals.ConsistencyOn()
    normals.Update()
    out: vtkPolyData = normals.GetOutput()
    return out


def _decimated(
    surface: vtkPolyData, shape: tuple[int, int, int], max_triangles: int
) -> vtkPolyData:
    """Quadric clustering on a grid sized so that the count fits, shrunk until it does."""
    k, j, i = shape
    # a closed surface on an n³ grid keeps about 4 n² triangles: start from that guess
    side = max(8.0, float(np.sqrt(max_triangles / 4.0)))
    longest = max(i, j, k)
    while True:
        divisions = [max(2, round(side * n / longest)) for n in (i, j, k)]
        clustering = vtkQuadricClustering()
        clustering.SetInputData(surface)
        clustering.SetNumberOfDivisions(*divisions)
        clustering.AutoAdjustNumberOfDivisionsOff()
        clustering.Update()
        result: vtkPolyData = clustering.GetOutput()
        if result.GetNumberOfPolys() <= max_triangles or side <= 8.0:
            return result
        side *= _SHRINK


def iso_surface_actor(surface: vtkPolyData, volume: MprVolume) -> vtkActor:
    """`surface` as a bone-white, lit actor placed in LPS by the volume's affine."""
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(surface)
    mapper.ScalarVisibilityOff()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.SetUserMatrix(vtk_matrix(volume.affine))
    prop = actor.GetProperty()
    prop.SetColor(0.93, 0.89, 0.80)
    prop.SetAmbient(0.15)
    prop.SetDiffuse(0.8)
    prop.SetSpecular(0.2)
    prop.SetSpecularPower(20.0)
    return actor
