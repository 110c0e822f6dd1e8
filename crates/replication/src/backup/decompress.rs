//! Undoing server-side compression (15+) as a streaming `Read` stage before tar parsing.

use std::io::{BufReader, Read};

use super::options::Compression;

/// Wraps `reader` (compressed archive bytes) in the matching decoder; plain archives pass
/// through untouched.
pub fn decoder<'a, R: Read + Send + 'a>(
    compression: Compression,
    reader: R,
) -> std::io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(reader),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(BufReader::new(reader))),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(BufReader::new(reader))),
    })
}

/// The archive name suffix the server uses for `compression`.
pub fn archive_suffix(compression: Compression) -> &'static str {
    match compression {
        Compression::None => ".tar",
        Compression::Zstd => ".tar.zst",
        Compression::Lz4 => ".tar.lz4",
        Compression::Gzip => ".tar.gz",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn each_decoder_restores_the_bytes() {
        let plain: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let zst = zstd::encode_all(&plain[..], 3).unwrap();
        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&plain).unwrap();
        let lz = lz.finish().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        for (c, bytes) in [
            (Compression::None, plain.clone()),
            (Compression::Zstd, zst),
            (Compression::Lz4, lz),
            (Compression::Gzip, gz),
        ] {
            let mut out = Vec::new();
            decoder(c, &bytes[..])
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, plain, "{c:?}");
        }
    }
}
