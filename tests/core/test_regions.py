import numpy as np

from astroexplorer.core.regions import points_in_box, points_in_polygon


def test_points_in_polygon_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(-2, 2, size=(5000, 2))
    # A concave "L" shape.
    polygon = np.array([[0, 0], [1.5, 0], [1.5, 0.5], [0.5, 0.5], [0.5, 1.5], [0, 1.5]])
    inside = points_in_polygon(xy, polygon)
    x, y = xy[:, 0], xy[:, 1]
    truth = (((x > 0) & (x < 1.5) & (y > 0) & (y < 0.5))
             | ((x > 0) & (x < 0.5) & (y > 0) & (y < 1.5)))
    assert np.array_equal(inside, truth)


def test_points_in_polygon_degenerate() -> None:
    xy = np.zeros((3, 2))
    assert not points_in_polygon(xy, np.array([[0, 0], [1, 1]])).any()


def test_points_in_box_corners_in_any_order() -> None:
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    assert points_in_box(xy, 1.5, 1.5, -0.5, -0.5).tolist() == [True, True, False]
