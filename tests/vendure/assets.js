// Where the test store keeps uploaded assets: in memory, like its database,
// so nothing native (the asset server plugin needs sharp) and nothing left
// on disk. Previews are the source bytes themselves: the store makes no
// thumbnails. A running store serves nothing from here; tests read assets
// back through the Admin API (name, MIME type, size, width and height).
'use strict';

const { Readable } = require('stream');

class MemoryAssetStorage {
    constructor() {
        this.files = new Map();
    }

    async writeFileFromBuffer(fileName, data) {
        this.files.set(fileName, Buffer.from(data));
        return fileName;
    }

    async writeFileFromStream(fileName, data) {
        const chunks = [];
        for await (const chunk of data) chunks.push(Buffer.from(chunk));
        return this.writeFileFromBuffer(fileName, Buffer.concat(chunks));
    }

    async readFileToBuffer(identifier) {
        const data = this.files.get(identifier);
        if (!data) throw new Error(`no asset file ${identifier}`);
        return data;
    }

    async readFileToStream(identifier) {
        return Readable.from([await this.readFileToBuffer(identifier)]);
    }

    async deleteFile(identifier) {
        this.files.delete(identifier);
    }

    async fileExists(fileName) {
        return this.files.has(fileName);
    }
}

class SourceAsPreview {
    async generatePreviewImage(ctx, mimeType, data) {
        return data;
    }
}

module.exports = { MemoryAssetStorage, SourceAsPreview };
