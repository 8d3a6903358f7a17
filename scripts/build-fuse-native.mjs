console.log("fuse-native build: placeholder")
