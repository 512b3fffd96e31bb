"""The procedural NYU-like data set: a kinematic hand (`hand`), a ray-casting renderer
(`render`), a Kinect-like sensor model (`sensor`) and the three-camera generator of corresponding
synthetic and real frames (`generator`). `mlib.data.generate` is its only client: it renders the
crops into the cache or exports the frames in NYU's on-disk layout."""
